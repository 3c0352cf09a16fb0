"""factory_boy factories shared by the whole suite."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Role, RoleGrant, Unit, UnitKind, User, Village, VillageKind
from cases.models import Area, Case, Household, Kind, Person, PolicyStandard, Relation, StandardKind

_id_seq = itertools.count(1)
PASSWORD = "Dengkou#2026pass"


def unique_id_number(birth: date = date(1970, 1, 1), sex: str = "M") -> str:
    """A valid, never-repeated 18-digit ID number (GB 11643 check digit)."""
    n = next(_id_seq)
    seq = (n % 499) * 2 + (1 if sex == "M" else 0)
    region = f"1508{(n // 499) % 100:02d}"
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"1508229{n:02d}")
    name = factory.Sequence(lambda n: f"测试镇{n}")
    kind = UnitKind.TOWN


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Village

    unit = factory.SubFactory(UnitFactory)
    code = factory.Sequence(lambda n: f"150822{n:06d}")
    name = factory.Sequence(lambda n: f"样例村{n}")
    kind = VillageKind.VILLAGE
    urban_rural_code = "220"
    is_sample = True


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"工作人员{n}")
    unit = factory.SubFactory(UnitFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        self.save()
        for role in extracted or []:
            RoleGrant.objects.create(user=self, role=role)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    village = factory.SubFactory(VillageFactory)
    unit = factory.SelfAttribute("village.unit")
    area = Area.RURAL


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Sequence(lambda n: f"张{'明华立新'[n % 4]}{'东西南北'[n % 4]}")
    birth_date = date(1970, 1, 1)
    sex = "M"
    id_number = factory.LazyAttribute(lambda o: unique_id_number(o.birth_date, o.sex))
    id_hash = factory.LazyAttribute(
        lambda o: __import__("dengkou_aid.lib.crypto", fromlist=["keyed_hash"]).keyed_hash(
            o.id_number
        )
    )
    relation = Relation.HEAD


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    applicant = factory.SubFactory(PersonFactory)
    household = factory.SelfAttribute("applicant.household")
    unit = factory.SelfAttribute("household.unit")
    village = factory.SelfAttribute("household.village")
    kind = Kind.DIBAO
    area = factory.SelfAttribute("household.area")
    number = factory.Sequence(lambda n: f"T-{timezone.now():%Y}-{n:06d}")


def demo_standards(effective_from: date = date(2023, 1, 1)) -> None:
    """Inner Mongolia's 2023 regional averages, as DOMAIN.md gives them for demo data."""
    values = {
        (StandardKind.DIBAO, Area.URBAN): "840",
        (StandardKind.DIBAO, Area.RURAL): "670",
        (StandardKind.TEKUN_BASIC, Area.URBAN): "1380",
        (StandardKind.TEKUN_BASIC, Area.RURAL): "1020",
        (StandardKind.TEKUN_CARE_FULL, Area.URBAN): "1266",
        (StandardKind.TEKUN_CARE_FULL, Area.RURAL): "1266",
        (StandardKind.TEKUN_CARE_PARTIAL, Area.URBAN): "495",
        (StandardKind.TEKUN_CARE_PARTIAL, Area.RURAL): "495",
        (StandardKind.TEKUN_CARE_SELF, Area.URBAN): "0",
        (StandardKind.TEKUN_CARE_SELF, Area.RURAL): "0",
    }
    for (kind, area), amount in values.items():
        PolicyStandard.objects.get_or_create(
            kind=kind,
            area=area,
            effective_from=effective_from,
            defaults={
                "amount": Decimal(amount),
                "is_demo": True,
                "note": "演示数值：内蒙古2023年平均标准",
            },
        )


__all__ = [
    "PASSWORD",
    "CaseFactory",
    "HouseholdFactory",
    "PersonFactory",
    "Role",
    "UnitFactory",
    "UserFactory",
    "VillageFactory",
    "demo_standards",
    "unique_id_number",
]
