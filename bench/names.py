"""Name and address vocabularies of the generator, from several cultures, accents included.

Lists are ordered from most to least common: the generator draws them with flattened Zipf-like
weights (the top last name is about 2% of patients), and adds a long tail of synthetic names.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Maria", "José", "James", "Mohammed", "Wei", "Sarah", "David", "Fatima", "Ana", "Michael",
    "Priya", "Chloé", "Li", "Emily", "Juan", "Sofía", "Yuki", "Aisha", "François", "Olga",
    "Mateo", "Camila", "Hana", "Arjun", "Lucía", "Min-jun", "Kwame", "Ngozi", "João", "Inés",
    "Jürgen", "Zoë", "Søren", "Björn", "Ágnes", "Łukasz", "Małgorzata", "Renée", "Joaquín",
    "Siobhán", "Ömer", "Çağla", "Dmitri", "Aiko", "Jae-won", "Thảo", "Ama", "Chidi", "Hélène",
    "Noémie", "Andrés", "Gonçalo", "Ingrid", "Astrid", "Niamh", "Seán", "Elif", "Emre", "Ravi",
    "Mei", "Olúwaseun", "Þórunn", "Dagný", "Zuzana", "Radosław", "Oisín", "Éabha", "Tadhg",
)  # fmt: skip

LAST_NAMES = (
    "García", "Smith", "Nguyễn", "Müller", "Rodríguez", "Johnson", "Kim", "Patel", "Wang",
    "Martínez", "Lee", "Hernández", "López", "Brown", "Zhang", "González", "Pérez", "Williams",
    "Dubois", "Schmidt", "Kowalski", "Tanaka", "Yılmaz", "Okafor", "Ivanov", "Park", "Trần",  # noqa: RUF001
    "Lefèvre", "Moreau", "Schäfer", "Weiß", "Wiśniewski", "Nowak", "Dvořák", "Petrova",
    "Öztürk", "Şahin", "Suzuki", "Yamamoto", "Choi", "Lê", "Phạm", "Adeyemi", "Mensah",
    "Diallo", "Haddad", "Al-Farsi", "O'Brien", "MacDonald", "Fernández", "Gonçalves",
    "Sørensen", "van der Berg", "De la Cruz", "Kaczmarek", "Gómez", "Jóhannsdóttir",
    "Ó Súilleabháin", "Þórsson", "Nakamura", "Abdullahi", "Papadopoulos", "Eriksdóttir",
    "Szczepańska", "Quispe", "Ngata", "Bjørnstad", "Zúñiga",
)  # fmt: skip

# Syllables of the long tail of names (bench.generate._synthetic_name).
SYLLABLES = ("ka", "lo", "mi", "ra", "tan", "ve", "sol", "den", "bru", "na", "ko", "li", "sha",
             "mar", "tes", "ul", "per", "go", "vin", "ha", "ze", "rok", "al", "bi", "chen", "do",
             "fa", "gri", "jo", "lun", "mo", "nis", "or", "pa", "qui", "sen", "tu", "wa", "yo",
             "zan", "é", "ö")  # fmt: skip

# About 0.1% of patients carry one of these: ~100 matches each at 1M patients.
RARE_LAST_NAMES = ("Abernathy-Ødegaard", "Xochiquetzal", "Vuković-Hale", "Ìyánlá", "Quennell",
                   "Þorgrímsdóttir", "Zebrowski-Ngata", "Ollivander", "Kjærgaard",
                   "Pětrošová")  # fmt: skip

STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Rue de la Paix", "Hauptstraße",
           "Calle Mayor", "Elm St", "Park Rd", "Lakeview Blvd")  # fmt: skip
CITIES = (("New York", "NY", "100"), ("Los Angeles", "CA", "900"), ("Chicago", "IL", "606"),
          ("Houston", "TX", "770"), ("Miami", "FL", "331"), ("Seattle", "WA", "981"),
          ("Boston", "MA", "021"), ("Denver", "CO", "802"), ("Atlanta", "GA", "303"),
          ("Portland", "OR", "972"))  # fmt: skip
TIMEZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
             "America/Phoenix", "Europe/London", "Europe/Berlin", "Asia/Tokyo")  # fmt: skip
US_AREA_CODES = (212, 213, 305, 312, 404, 415, 503, 602, 617, 702, 713, 801, 919, 206, 303)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")
GROUP_NAMES = ("Weight management", "Diabetes prevention", "Prenatal", "Pediatrics", "Sports",
               "Cardiac rehab", "Eating disorders", "Renal", "Oncology", "Geriatrics",
               "Gut health", "Allergies", "PCOS", "Bariatric", "Vegan", "Employees",
               "Medicare", "Telehealth only", "Waitlist", "Research cohort")  # fmt: skip
TAG_NAMES = ("VIP", "New", "Needs follow-up", "Insurance pending", "Spanish speaking",
             "High risk", "Referred", "Newsletter", "Late payer", "Group class", "Intake done",
             "Lab results due", "Prefers SMS", "Prefers email", "Inactive 90d", "Moved",
             "Family plan", "Student", "Veteran", "Self-pay", "Medicaid", "Telehealth",
             "In person", "Morning slots", "Evening slots", "Accessibility needs",
             "Interpreter", "Portal invited", "Survey sent", "Ambassador")  # fmt: skip
