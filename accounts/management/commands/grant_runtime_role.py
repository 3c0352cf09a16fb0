from django.core.management.base import BaseCommand, CommandError

from dengkou_aid.lib.dbroles import RoleRefused, grant_runtime_role


class Command(BaseCommand):
    help = (
        "Grant the application's runtime database role SELECT, INSERT, UPDATE and DELETE on "
        "every table and USAGE on every sequence (now and, by default privileges, later), and "
        "nothing else. Run as the owner that runs the migrations, after `migrate`."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("role", help="the runtime role, e.g. dengkou_app")

    def handle(self, *args, **options) -> None:
        try:
            granted = grant_runtime_role(options["role"])
        except RoleRefused as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{granted.role}: rows of {granted.tables} tables and {granted.sequences} sequences "
            f"in schema {granted.schema} owned by {granted.owner}; no TRUNCATE, TRIGGER or DDL."
        )
