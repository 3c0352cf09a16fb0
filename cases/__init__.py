"""Cases: households and their members, applications for 城乡低保, 低保边缘家庭 and 特困供养,
the django-fsm workflow from application to standing publicity, the sign-off chain, income
assessment against the policy standards, materials, the working-day calendar and documents.

Sits on accounts; imports no higher app."""
