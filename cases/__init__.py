"""Cases: households and their members, applications for 城乡低保, 低保边缘家庭 and 特困供养,
the django-fsm workflow and sign-off chain (models.py, services.py, events.py), income
assessment, materials, and three feature folders:

    deadlines/  the working-day calendar, holidays, monthly cut-offs, the deadline scan
    documents/  documents and their register, the archive export, ledgers, handovers
    public/     pages open without sign-in: service guides and publicity notices

Layer 1: sits on accounts; imports no higher app."""
