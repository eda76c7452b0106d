"""Generate the seeded AreaSafe demo data set in ``data/demo/`` from the real data in ``../shared``.

Place in the data flow: this script runs *before* the pipelines, once, by a developer. It reads real
public files from ``../shared/data/real`` (SAPS precinct boundaries, Census-2022 populations, Khayelitsha
sub-districts and roads, schools, SAPS crime-category mixes), simulates what no public source offers
(point incidents, a community survey, assets, interventions) and writes plain source files into
``data/demo/``. ``areasafe demo`` later ingests those files through the same readers, validation and
spatial placement as any upload, so the demo also exercises the rejection paths (the dirty rows planted
here). Nothing in ``pipelines/`` or ``dashboard/`` imports this module, and a fresh machine needs only the
committed output, not ``../shared``.

The output is reproducible: one fixed seed, a fixed 24-month simulation window, stable sort orders and no
reads of the clock, so running it twice gives byte-identical files (``tests/test_demo_data.py``).

Usage::

    python scripts/make_demo_data.py [--shared ../shared/data/real] [--out data/demo]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike
from shapely.geometry import LineString, mapping
from shapely.ops import linemerge, substring

from pipelines.periods import financial_year_of
from pipelines.schemas import ABCD_CATEGORIES, INTERVENTION_STATUSES
from pipelines.settings import DEMO_DIR, PROJECT_ROOT

# --------------------------------------------------------------------------------------------------
# Fixed parameters
# --------------------------------------------------------------------------------------------------
SEED = 20261121
WINDOW_START = pd.Timestamp("2024-11-01")
WINDOW_END = pd.Timestamp("2026-10-31")  # inclusive: 24 whole months
DEFAULT_SHARED = PROJECT_ROOT.parent / "shared" / "data" / "real"
WGS84 = "EPSG:4326"
METRIC_CRS = "EPSG:32734"  # UTM 34S, metres, for areas and the population estimate
MUNICIPALITY = "City of Cape Town"
COORD_DECIMALS = 6
METRES_PER_DEG_LAT = 111_320.0

# Independent random streams, so changing one file's simulation does not reshuffle the others.
STREAM_TAVERNS, STREAM_MUNICIPAL, STREAM_SURVEY = 0, 1, 2

# 2015 precinct ids (as in policeBounds3.json) of the demo area.
DEMO_PRECINCT_IDS = ("Khayelitsha", "Harare", "Lingelethu-West", "Nyanga", "Gugulethu", "Philippi_East")
STATION_ABBREVIATIONS = {
    "Khayelitsha": "KHA",
    "Harare": "HAR",
    "Lingelethu-West": "LIN",
    "Nyanga": "NYA",
    "Gugulethu": "GUG",
    "Philippi East": "PHE",
}
SURVEY_PRECINCTS = {"Harare": 0.45, "Khayelitsha": 0.35, "Lingelethu-West": 0.20}  # where the CSO works
SURVEY_COMPONENT_SHARES = (0.55, 0.25, 0.20)  # background, interchange, tavern

# Real inputs, with the sha256 stated in each source folder's PROVENANCE.md. The generator refuses to run on
# files that differ, because the demo's provenance would then be wrong.
REAL_INPUTS = {
    "precincts": ("za-saps-precincts-2015", "policeBounds3.json"),
    "stations": ("za-police-stations-census2022", "police_stations.csv"),
    "subdistricts": ("khayelitsha-subdistricts-sjc", "Sub_dist_Khayelitsha.gdb.zip"),
    "schools": ("za-schools-capetown-2017", "wc_schools_city_of_cape_town_2017.csv"),
    "crimestats": ("za-saps-station-crimestats-2005-2016", "SouthAfricaCrimeStats_v2.csv"),
}
EXPECTED_SHA256 = {
    "precincts": "398d82e0945d1df0af40593838857d0ea9a8d457557ca4e8736ca0a1b95ec996",
    "stations": "badd6be51557b8050ffe2d7867ea5f78107d9d04efdd0e1dea5e1c176a1c9464",
    "subdistricts": "bea139f1699b748156376f7825c559d28cab3cd54623daf3c79b725d37bffef4",
    "schools": "8c04d530c6759a397c09dbdd0edd057699bccbc54104785f877f85f75eda30ae",
    "crimestats": "97b7ae5dc393d235cf69d44fc4f99a8da0ab0dbeb05729cacc14f71dbb4143e2",
}
CRIMESTATS_YEAR = "2015-2016"  # latest year in the SAPS file; its category mix drives the simulation

FILES = (
    "precincts.geojson",
    "neighbourhoods.geojson",
    "schools.csv",
    "assets_other.csv",
    "incidents_municipal.csv",
    "cso_survey_kobo.csv",
    "interventions.geojson",
    "planted.json",
)


@dataclass(frozen=True)
class Anchor:
    """A named place that attracts incidents (a transport interchange)."""

    name: str
    place: str  # how a description refers to it
    lat: float
    lon: float
    weight: float
    note: str


# Transport interchanges. Khayelitsha and Nolungile are the centroids of the City road-centreline features of
# type "Rank" named KHAYELITSHA STATION and NLUNGILE STATION in the SJC roads layer (real); the others are
# approximate positions from general knowledge, checked only to fall inside the right 2015 precinct.
INTERCHANGES = (
    Anchor("Khayelitsha station", "Khayelitsha station", -34.04602, 18.67226, 0.20, "City 'Rank' feature"),
    Anchor("Nolungile (Site C) station", "Nolungile station", -34.01519, 18.64878, 0.14, "City 'Rank' feature"),
    Anchor("Site C taxi rank", "the Site C taxi rank", -34.0170, 18.6462, 0.14, "approximate"),
    Anchor("Nonkqubela station", "Nonkqubela station", -34.0296, 18.6590, 0.08, "approximate"),
    Anchor("Kuyasa station", "Kuyasa station", -34.0535, 18.6850, 0.10, "approximate"),
    Anchor("Nyanga taxi rank (terminus)", "the Nyanga taxi terminus", -33.9935, 18.5870, 0.14, "approximate"),
    Anchor("Gugulethu Mall (NY1)", "Gugulethu Mall", -33.9755, 18.5705, 0.10, "approximate"),
    Anchor("Philippi East station", "Philippi East station", -34.0110, 18.6035, 0.08, "approximate"),
)

# The planted emerging hotspot: inside HARARE HOLOMISA and the Harare precinct, >1 km from every interchange.
HOTSPOT_LAT, HOTSPOT_LON = -34.0592, 18.6740
HOTSPOT_RADIUS_M = 150.0
HOTSPOT_MONTHS = ("2026-08", "2026-09", "2026-10")
HOTSPOT_MEAN_PER_MONTH = (65, 80, 95)  # growing, as an emerging hotspot does
HOTSPOT_TYPES = {
    "Robbery with aggravating circumstances": 0.40,
    "Common robbery": 0.25,
    "Assault with the intent to inflict grievous bodily harm": 0.15,
    "Common assault": 0.20,
}
N_TAVERNS = 40
TAVERN_MIN_DISTANCE_FROM_HOTSPOT_M = 800.0
INTERCHANGE_SIGMA_M = 220.0
TAVERN_SIGMA_M = 50.0

N_MUNICIPAL = 19_700  # before the hotspot rows and the duplicate rows
MUNICIPAL_DIRTY = {"empty_coordinates": 60, "zero_coordinates": 40, "swapped_coordinates": 40, "duplicate_rows": 50}
EMPTY_DESCRIPTION_SHARE = 0.02

N_SURVEY = 1_500  # before the duplicate submissions
N_SURVEY_HOTSPOT = 24  # community reports at the hotspot in its three months
SURVEY_DIRTY_COUNTS = {"missing_location": 15, "swapped_coordinates": 10, "future_date": 5, "unparseable_date": 5}
SURVEY_DUPLICATES = 8
SURVEY_FUTURE_DATES = ("21/08/2062", "03/09/2062", "14/10/2062", "27/09/2062", "30/08/2062")  # 2026 typed as 2062
SURVEY_BAD_DATES = ("yesterday", "31/02/2026", "15-Aug", "last Friday night", "00/00/0000")
SURVEY_FIRST_ID = 231_874_012

# --------------------------------------------------------------------------------------------------
# Temporal profiles
# --------------------------------------------------------------------------------------------------
# Relative incident intensity by hour 0..23.
HOURS_NIGHT = np.array([6, 5, 4, 2, 1.5, 1.5, 2, 2.5, 2.5, 2.5, 2.5, 2.5, 3, 3, 3, 3.5, 4, 5, 7, 8, 8.5, 8, 7.5, 7])
HOURS_DAY = np.array([1.5, 1, 1, 1, 1, 1.5, 3, 4, 5, 6, 6.5, 6.5, 6, 6, 6, 5.5, 5, 4.5, 4, 3.5, 3, 2.5, 2, 2])
# Commuters walking to and from stations in the dark before 07:00 and after 17:00 are robbed most.
HOURS_COMMUTE = np.array([3, 2, 1.5, 1.5, 4, 7, 8, 6, 3, 2, 2, 2, 2.5, 2.5, 3, 4, 5.5, 7, 8, 7, 6, 5, 4.5, 4])
# Relative intensity by weekday, Monday..Sunday.
WEEK_NIGHT = np.array([0.8, 0.75, 0.8, 0.9, 1.3, 1.6, 1.45])
WEEK_DAY = np.array([1.0, 1.0, 1.0, 1.0, 1.1, 0.95, 0.85])
SEASON_AMPLITUDE = 0.15  # peak in the festive season (late December)
SEASON_PEAK_DOY = 355
PAYDAY_FACTOR = 1.35  # 25th of the month to the 1st of the next

DAY_TYPES = {
    "Burglary at residential premises",
    "Shoplifting",
    "Commercial crime",
    "All theft not mentioned elsewhere",
    "Theft of motor vehicle and motorcycle",
    "Stock-theft",
}
COMMUTE_TYPES = {
    "Robbery with aggravating circumstances",
    "Common robbery",
    "All theft not mentioned elsewhere",
}

# Share of each SAPS category drawn from (background, interchange cluster, tavern cluster).
COMPONENT_SHARES: dict[str, tuple[float, float, float]] = {
    "Robbery with aggravating circumstances": (0.45, 0.40, 0.15),
    "Common robbery": (0.40, 0.45, 0.15),
    "All theft not mentioned elsewhere": (0.45, 0.45, 0.10),
    "Theft out of or from motor vehicle": (0.60, 0.35, 0.05),
    "Assault with the intent to inflict grievous bodily harm": (0.45, 0.15, 0.40),
    "Common assault": (0.45, 0.15, 0.40),
    "Murder": (0.50, 0.15, 0.35),
    "Attempted murder": (0.50, 0.15, 0.35),
    "Malicious damage to property": (0.60, 0.15, 0.25),
    "Drug-related crime": (0.40, 0.30, 0.30),
    "Illegal possession of firearms and ammunition": (0.50, 0.20, 0.30),
    "Driving under the influence of alcohol or drugs": (0.50, 0.20, 0.30),
    "Sexual Offences": (0.80, 0.05, 0.15),
    "Burglary at residential premises": (0.95, 0.00, 0.05),
}
DEFAULT_COMPONENT_SHARES = (0.80, 0.15, 0.05)
BACKGROUND, INTERCHANGE, TAVERN, HOTSPOT = 0, 1, 2, 3

# --------------------------------------------------------------------------------------------------
# Text for the simulated records
# --------------------------------------------------------------------------------------------------
ITEMS = (
    "cellphone",
    "handbag",
    "wallet",
    "cash",
    "laptop bag",
    "groceries",
    "bank card",
    "jacket",
    "takkies",
    "school bag",
    "earphones",
)
PLACES = {
    BACKGROUND: (
        "the spaza shop",
        "the footpath",
        "the open field",
        "a bus stop",
        "the school gate",
        "the container shops",
        "the clinic",
        "a street corner",
        "the community hall",
        "the sports field",
    ),
    TAVERN: ("a tavern", "the shebeen", "the tavern on the corner", "an illegal shebeen"),
    HOTSPOT: (
        "the footpath across the open field",
        "the open field",
        "the corner near the container shops",
        "the pedestrian path",
    ),
}
MUNICIPAL_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Robbery with aggravating circumstances": (
        "Victim robbed of {item} at knifepoint near {place}",
        "Two suspects with a firearm took {item} from victim near {place}",
        "Complainant stabbed and robbed of {item} walking from {place}",
        "Armed suspects robbed pedestrian of {item} near {place}",
    ),
    "Common robbery": (
        "Victim robbed of {item} walking from {place}",
        "{Item} grabbed from complainant near {place}",
        "Suspects pushed victim and took {item} near {place}",
    ),
    "All theft not mentioned elsewhere": (
        "{Item} stolen at {place}",
        "Complainant's {item} stolen while at {place}",
        "Pickpocket took {item} in the crowd at {place}",
    ),
    "Common assault": (
        "Complainant slapped and pushed during an argument at {place}",
        "Fight between neighbours near {place}",
        "Victim assaulted by a known person at {place}",
    ),
    "Assault with the intent to inflict grievous bodily harm": (
        "Victim stabbed with a knife during a fight at {place}",
        "Complainant hit with a brick near {place}, taken to clinic",
        "Victim assaulted with a panga near {place}",
    ),
    "Murder": (
        "Body of adult male with stab wounds found near {place}",
        "Victim shot dead near {place}",
        "Victim died after being stabbed at {place}",
    ),
    "Attempted murder": (
        "Victim shot and wounded near {place}",
        "Shots fired at complainant near {place}, victim in hospital",
    ),
    "Malicious damage to property": (
        "Windows of house broken by unknown suspects",
        "Vehicle windscreen smashed near {place}",
        "Shack door and window damaged after an argument",
    ),
    "Drug-related crime": (
        "Suspect found in possession of tik near {place}",
        "Dagga and mandrax found during search near {place}",
        "Suspect arrested for dealing drugs at {place}",
    ),
    "Driving under the influence of alcohol or drugs": (
        "Driver arrested for driving under the influence near {place}",
        "Minibus taxi driver failed breathalyser test at roadblock",
    ),
    "Sexual Offences": ("Sexual offence reported; victim referred for care", "Sexual offence case opened"),
    "Burglary at residential premises": (
        "House broken into while occupants at work, {item} stolen",
        "Shack broken into, {item} and TV stolen",
        "Back door forced open, {item} stolen",
    ),
    "Burglary at non-residential premises": (
        "Spaza shop broken into overnight, stock stolen",
        "Classroom broken into, computers stolen",
        "Container shop burgled, airtime and cash stolen",
    ),
    "Theft out of or from motor vehicle": (
        "Window smashed and {item} stolen from parked vehicle",
        "Car radio stolen from vehicle parked near {place}",
    ),
    "Robbery at residential premises": (
        "Armed suspects entered house and took {item}",
        "Family held up at home, {item} and cash taken",
    ),
    "Robbery at non-residential premises": (
        "Spaza shop robbed at gunpoint",
        "Armed suspects robbed a tuck shop of cash and airtime",
    ),
    "Carjacking": (
        "Driver forced out of vehicle at gunpoint near {place}",
        "Delivery vehicle hijacked near {place}",
    ),
    "Theft of motor vehicle and motorcycle": (
        "Vehicle stolen from outside owner's house",
        "Motorcycle stolen near {place}",
    ),
    "Illegal possession of firearms and ammunition": (
        "Unlicensed firearm found during search near {place}",
        "Suspect arrested with pistol and ammunition near {place}",
    ),
    "Shoplifting": ("Suspect caught shoplifting at supermarket", "Groceries concealed and taken without paying"),
    "Commercial crime": ("Complainant defrauded by fake job offer", "SASSA card used without permission"),
    "Arson": ("Shack set alight after a dispute", "Vehicle set alight near {place}"),
    "Truck hijacking": ("Delivery truck hijacked near {place}",),
}
DEFAULT_TEMPLATES = ("{crime} reported near {place}",)

# Community wording for the CSO survey and relative frequency. Every key is a taxonomy term.
SURVEY_TYPES: dict[str, float] = {
    "robbery": 12,
    "Robbery": 3,
    "mugging": 5,
    "gang violence": 10,
    "Gang violence": 2,
    "drug dealing": 9,
    "tik house": 2,
    "housebreaking": 7,
    "break-in": 4,
    "broken streetlight": 7,
    "unsafe lighting": 4,
    "illegal shebeen": 5,
    "shebeen": 2,
    "domestic violence": 4,
    "child abuse": 1.5,
    "rape": 1,
    "sexual assault": 1,
    "gender-based violence": 1.5,
    "gunshots": 4,
    "shooting": 2,
    "stabbing": 3,
    "mob justice": 1,
    "vigilante": 0.5,
    "loitering": 2,
    "youth at risk": 1.5,
    "illegal dumping": 3,
    "extortion": 2.5,
    "protection fees": 1.5,
    "missing person": 0.7,
    "cable theft": 1.5,
    "vandalism": 2,
    "skollies": 1,
    "assault": 2,
    "theft": 2,
}
SURVEY_TAVERN_TYPES = ("illegal shebeen", "shebeen", "stabbing", "gunshots", "gang violence", "assault")
SURVEY_HOTSPOT_TYPES = ("robbery", "mugging", "stabbing", "unsafe lighting", "robbery")
# Planted wording the ingest must cope with: misspellings (fuzzy matching) and terms that match nothing.
SURVEY_MISSPELLED = {"illegal shebean": 6, "housebraking": 4, "domestic violance": 3, "drug delaing": 2}
SURVEY_UNMATCHED = {"stray dogs": 3, "burst water pipe": 2, "potholes": 2}

SURVEY_TEMPLATES: dict[str, tuple[str, ...]] = {
    "robbery": (
        "They took my phone on the way to the station",
        "Young men with knives robbing people early in the morning",
        "Robbed walking home after work, they took my bag",
        "Amatsotsi robbing people at the corner",
    ),
    "mugging": ("Mugged near the footpath, lost my phone and money", "Old man mugged on pension day"),
    "gang violence": (
        "Gangsters fighting again, shots at night",
        "Skollies from the next section threatening the youth",
        "Gang members recruiting school kids",
    ),
    "skollies": ("Skollies sitting at the corner harassing people", "Skollies took over the open field"),
    "drug dealing": ("Tik being sold from a house near the school", "Drug dealers at the corner every evening"),
    "tik house": ("Tik house open day and night, children going in", "People smoking tik in the empty house"),
    "housebreaking": ("My shack was broken into while I was at work", "Neighbour's house broken into, TV taken"),
    "break-in": ("Break-in at the container shop", "Someone broke the window and took our things"),
    "broken streetlight": (
        "Streetlight broken for 3 months, very dark",
        "High mast light not working, people robbed in the dark",
    ),
    "unsafe lighting": ("Footpath to the station has no light at all", "Too dark near the toilets at night"),
    "illegal shebeen": ("Shebeen open until 4am, fighting every weekend", "Illegal tavern selling to children"),
    "shebeen": ("Loud music from the shebeen all night", "Drunk people leaving the shebeen fight in the street"),
    "domestic violence": ("Woman beaten by partner, neighbours heard screaming", "Sicela uncedo, she is hurt again"),
    "child abuse": ("Child left alone and beaten, please help", "Children sent to buy alcohol and hit at home"),
    "rape": ("Girl attacked on the footpath at night, referred to clinic",),
    "sexual assault": ("Woman attacked near the toilets, reported to police",),
    "gender-based violence": ("Women harassed at the taxi rank every evening", "Young women threatened by boyfriends"),
    "gunshots": ("Gunshots heard around 11pm", "Shots fired near the tavern last night"),
    "shooting": ("Shooting near the spaza, one person injured", "Shooting at the corner again"),
    "stabbing": ("Young man stabbed outside the tavern", "Stabbing during a fight over money"),
    "mob justice": ("Community beat a suspected thief", "Mob caught a boy and assaulted him"),
    "vigilante": ("Vigilante group patrolling and beating people",),
    "loitering": ("Youth sitting at the corner all day, no programmes", "Men loitering at the bridge at night"),
    "youth at risk": ("Boys not going to school, drinking in the day", "Children smoking at the field"),
    "illegal dumping": ("Rubbish dumped in the open field, rats everywhere", "Dumping next to the creche"),
    "extortion": ("Spaza owners forced to pay protection fees", "Builders told to pay or stop working"),
    "protection fees": ("Men collecting protection fees from shops every month",),
    "missing person": ("Teenager missing since Friday", "Elderly woman missing, last seen at the station"),
    "cable theft": ("Cables stolen, no electricity in the section", "Copper cables dug up next to the road"),
    "vandalism": ("Windows of the library broken", "Playground equipment destroyed"),
    "assault": ("Man beaten at the taxi rank", "Woman slapped and pushed in the street"),
    "theft": ("Washing stolen from the line", "Phone stolen at the clinic"),
    "stray dogs": ("Stray dogs attacking children on the way to school",),
    "burst water pipe": ("Water running in the street for a week",),
    "potholes": ("Big potholes, taxis swerving onto the pavement",),
}

# Free text with personal information the ingest must redact (fake numbers in 555 blocks, example domains).
SURVEY_PII = {
    "phone": (
        ("drug dealing", "Dealer sells from the yellow house, call me on 072 123 4567"),
        ("gang violence", "Please phone my brother +27 82 555 0101 he saw everything"),
        ("housebreaking", "They broke in again. My number is 0835550198"),
        ("extortion", "Shop owners scared, contact +27825550147 for details"),
    ),
    "email": (("illegal dumping", "Photos sent to the ward office, email me at n.mabandla@example.org"),),
    "html": (("robbery", "Group of <b>tsotsis</b> at the corner robbing people after dark"),),
}
SA_ID_STEM = "850412508908"  # YYMMDD 1985-04-12, sequence 5089, citizen 0, 8; the Luhn check digit is appended
FIRST_NAMES = ("Thandeka", "Sipho", "Nomsa", "Lwazi", "Ayanda", "Siyabonga", "Zintle", "Bongani", "Nosipho", "Mandla")
SURNAMES = ("Ndlovu", "Mabandla", "Ntshona", "Sixaba", "Mdaka", "Jacobs", "Qwabe", "Mgudlwa", "Adams", "Tyali")
ENUMERATORS = (("harare_cso_01", 0.35), ("harare_cso_02", 0.25), ("kha_safety_forum", 0.2), ("", 0.2))

KOBO_COLUMNS = (
    "start",
    "end",
    "today",
    "incident/incident_date",
    "incident/incident_type",
    "incident/description",
    "incident/location",
    "incident/_location_latitude",
    "incident/_location_longitude",
    "incident/_location_altitude",
    "incident/_location_precision",
    "reporter/reporter_name",
    "reporter/reporter_phone",
    "reporter/consent",
    "meta/instanceID",
    "_id",
    "_uuid",
    "_submission_time",
    "_tags",
    "_notes",
    "_validation_status",
    "_status",
    "_submitted_by",
)
MUNICIPAL_COLUMNS = ("case_number", "date_time", "crime_type", "latitude", "longitude", "description", "station")

# --------------------------------------------------------------------------------------------------
# Assets and interventions (SIMULATED attributes; positions anchored on real sub-districts and roads)
# --------------------------------------------------------------------------------------------------
# (name, abcd_category, type, custodian, anchor sub-district NAME or interchange name, east m, north m)
ASSETS: tuple[tuple[str, str, str, str, str, float, float], ...] = (
    (
        "Harare Library",
        "institutions",
        "library",
        "City Library and Information Services",
        "Kuyasa station",
        -180,
        -190,
    ),
    ("Harare Square", "physical", "public square", "City Recreation and Parks", "Kuyasa station", -90, -230),
    ("Kuyasa Library", "institutions", "library", "City Library and Information Services", "TOWN 3", 420, 180),
    ("Site C Clinic", "institutions", "clinic", "Western Cape Government Health", "Site C taxi rank", -250, -150),
    ("Town 2 Clinic", "institutions", "clinic", "Western Cape Government Health", "VILLAGE V2 NORTH", 120, -200),
    ("Mandela Park Community Hall", "physical", "community hall", "City Community Services", "MANDELA PARK", 0, 0),
    ("Site C Community Hall", "physical", "community hall", "City Community Services", "VICTORIA MXENGE", 150, 60),
    ("Kuyasa Sports Field", "physical", "sports field", "City Recreation and Parks", "TOWN 3", -250, -200),
    ("Village 1 North Sports Field", "physical", "sports field", "City Recreation and Parks", "VILLAGE V1 NORTH", 0, 0),
    ("Monwabisi Park Playground", "physical", "playground", "City Recreation and Parks", "MONWABISI", 0, 0),
    ("Uniting Reformed Church Harare", "institutions", "church", "Church council", "HARARE HOLOMISA", 500, 250),
    ("St Paul's Methodist Church", "institutions", "church", "Church council", "EKUPHUMLENI", -100, 80),
    ("Zion Christian congregation Town 3", "associations", "church", "Congregation elders", "TOWN 3", 200, -350),
    (
        "Harare Section 4 Street Committee",
        "associations",
        "street committee",
        "Elected committee",
        "HARARE HOLOMISA",
        -400,
        300,
    ),
    ("Harare Neighbourhood Watch", "associations", "neighbourhood watch", "Volunteers", "HARARE HOLOMISA", 650, -150),
    ("Kuyasa Youth Football Club", "associations", "youth sports club", "Volunteer coaches", "TOWN 3", -230, -170),
    ("Siyakhana Soup Kitchen", "associations", "soup kitchen", "Women's group", "KHAYELITSHA T2-V2B", 300, 200),
    ("Masiphumelele Stokvel", "economic", "savings group", "Members", "MANDELA PARK", -300, 150),
    ("Harare Spaza Shops Cluster", "economic", "spaza shops", "Shop owners", "HARARE HOLOMISA", 100, 450),
    (
        "Site C Informal Traders' Association",
        "economic",
        "informal traders",
        "Traders' committee",
        "Site C taxi rank",
        120,
        90,
    ),
    (
        "Khayelitsha Station Container Market",
        "economic",
        "container market",
        "Traders' committee",
        "Khayelitsha station",
        150,
        -60,
    ),
    ("Harare Artists' Collective", "cultural", "art collective", "Local artists", "Kuyasa station", -60, -280),
    ("Lookout Hill Heritage Site", "cultural", "heritage site", "City Tourism", "MONWABISI", 450, 400),
    ("Ekuphumleni Choir", "cultural", "choir", "Choir committee", "EKUPHUMLENI", 150, -120),
    (
        "Community first-aid volunteer (retired nurse)",
        "individuals",
        "volunteer",
        "Self",
        "HARARE HOLOMISA",
        -250,
        -200,
    ),
    ("Home-based early learning playgroup", "individuals", "childminder", "Self", "VILLAGE V1 SOUTH", 200, 100),
)

# A person's consent to be shown (assets.sharing_consent, SIMULATED): the volunteer agreed that officials may
# see her; the playgroup's host recorded none, so only admins see it. The public sees neither.
ASSET_CONSENT = {"Community first-aid volunteer (retired nurse)": "act"}

# Interventions. geometry: ("point", anchor, east m, north m) | ("road", ROAD_NAME, sub-district, max length m)
# | ("square", anchor, east m, north m, half side m). Dates ISO; the status history is in intervention_updates.csv (ACT-PROVENANCE.md), not generated here.
INTERVENTIONS: tuple[dict, ...] = (
    {
        "name": "Ncumo Road street lighting upgrade",
        "type": "street lighting",
        "lead": "Energy (Public Lighting)",
        "partners": "VPUU NPC; Harare Section 4 Street Committee",
        "status": "stalled",
        "budget_zar": 2_400_000,
        "start": "2025-09-01",
        "end": "2026-06-30",
        "geometry": ("road", "NCUMO", "HARARE HOLOMISA", 900),
    },
    {
        "name": "Walter Sisulu Road safe walkway (Khayelitsha station to Kuyasa)",
        "type": "safe walkway",
        "lead": "Urban Management",
        "partners": "VPUU NPC; Harare Neighbourhood Watch",
        "status": "complete",
        "budget_zar": 3_800_000,
        "start": "2024-07-15",
        "end": "2025-05-30",
        "geometry": ("road", "WALTER SISULU", "MANDELA PARK", 800),
    },
    {
        "name": "Harare Square active box",
        "type": "active box",
        "lead": "Safety and Security",
        "partners": "VPUU NPC; Harare Neighbourhood Watch",
        "status": "maintenance",
        "budget_zar": 1_200_000,
        "start": "2023-08-01",
        "end": "2024-06-30",
        "geometry": ("point", "Kuyasa station", -120, -250),
    },
    {
        "name": "Site C taxi rank high-mast lighting",
        "type": "street lighting",
        "lead": "Energy (Public Lighting)",
        "partners": "Site C Informal Traders' Association",
        "status": "complete",
        "budget_zar": 950_000,
        "start": "2024-11-01",
        "end": "2025-04-30",
        "geometry": ("point", "Site C taxi rank", 40, -40),
    },
    {
        "name": "Jeff Masemola Road safe walkway",
        "type": "safe walkway",
        "lead": "Urban Management",
        "partners": "VPUU NPC; Khayelitsha Community Policing Forum",
        "status": "in_progress",
        "budget_zar": 4_100_000,
        "start": "2025-07-01",
        "end": "2026-06-30",
        "geometry": ("road", "JEFF MASEMOLA", "VILLAGE V2 NORTH", 1000),
    },
    {
        "name": "Monwabisi youth football programme",
        "type": "youth programme",
        "lead": "Recreation and Parks",
        "partners": "Kuyasa Youth Football Club; VPUU NPC",
        "status": "in_progress",
        "budget_zar": 450_000,
        "start": "2025-10-01",
        "end": "2027-06-30",
        "geometry": ("point", "MONWABISI", 0, 0),
    },
    {
        "name": "Ncumo open field public space upgrade",
        "type": "public space upgrade",
        "lead": "Recreation and Parks",
        "partners": "VPUU NPC; Harare Artists' Collective; Harare Section 4 Street Committee",
        "status": "planned",
        "budget_zar": 6_500_000,
        "start": "2026-09-01",
        "end": "2027-11-30",
        "geometry": ("square", "HARARE HOLOMISA", 300, -250, 80),
    },
    {
        "name": "Town 3 early childhood development centre",
        "type": "early childhood development centre",
        "lead": "Human Settlements",
        "partners": "VPUU NPC; Siyakhana Soup Kitchen",
        "status": "stalled",
        "budget_zar": 4_200_000,
        "start": "2024-11-15",
        "end": "2026-03-31",
        "geometry": ("point", "TOWN 3", 100, -150),
    },
    {
        "name": "Mandela Park neighbourhood watch support",
        "type": "neighbourhood watch support",
        "lead": "Western Cape Police Oversight and Community Safety",
        "partners": "Harare Neighbourhood Watch; Khayelitsha Community Policing Forum",
        "status": "in_progress",
        "budget_zar": 180_000,
        "funding_sphere": "provincial",
        "start": "2026-04-01",
        "end": "2027-03-31",
        "geometry": ("point", "MANDELA PARK", 250, -100),
    },
    {
        "name": "Village 1 South active box",
        "type": "active box",
        "lead": "Safety and Security",
        "partners": "VPUU NPC",
        "status": "planned",
        "budget_zar": 1_350_000,
        "start": "2027-01-15",
        "end": "2027-12-15",
        "geometry": ("point", "VILLAGE V1 SOUTH", -150, 120),
    },
    {
        "name": "Lwandle Road lighting route",
        "type": "street lighting",
        "lead": "Energy (Public Lighting)",
        "partners": "VPUU NPC",
        "status": "complete",
        "budget_zar": 1_750_000,
        "start": "2025-02-01",
        "end": "2025-11-30",
        "geometry": ("road", "LWANDLE", "VILLAGE V2 NORTH", 1100),
    },
    {
        "name": "Kuyasa Library after-school programme",
        "type": "youth programme",
        "lead": "Recreation and Parks",
        "partners": "City Library and Information Services; Harare Artists' Collective",
        "status": "maintenance",
        "budget_zar": 300_000,
        "start": "2025-01-20",
        "end": "2025-12-12",
        "geometry": ("point", "TOWN 3", 440, 160),
    },
)


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _offset(lat: ArrayLike, lon: ArrayLike, east_m: ArrayLike, north_m: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Move a point by metres east/north (equirectangular approximation, fine at a few km).

    Parameters
    ----------
    lat, lon : float or numpy.ndarray
        Origin in degrees.
    east_m, north_m : float or numpy.ndarray
        Displacement in metres.

    Returns
    -------
    tuple of numpy.ndarray
        New latitude and longitude in degrees.
    """
    lat = np.asarray(lat, dtype=float)
    new_lat = lat + np.asarray(north_m) / METRES_PER_DEG_LAT
    new_lon = np.asarray(lon, dtype=float) + np.asarray(east_m) / (METRES_PER_DEG_LAT * np.cos(np.radians(lat)))
    return new_lat, new_lon


def _distance_m(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Approximate ground distance in metres between points a few km apart."""
    mean_lat = np.radians((np.asarray(lat1) + np.asarray(lat2)) / 2)
    north = (np.asarray(lat2) - np.asarray(lat1)) * METRES_PER_DEG_LAT
    east = (np.asarray(lon2) - np.asarray(lon1)) * METRES_PER_DEG_LAT * np.cos(mean_lat)
    return np.hypot(north, east)


def _luhn_check_digit(stem: str) -> str:
    """The Luhn check digit that makes ``stem + digit`` valid (South African ID numbers use Luhn)."""
    total = 0
    for position, char in enumerate(reversed(stem)):
        digit = int(char)
        if position % 2 == 0:  # doubled, counting from the digit next to the check digit
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def _normalise_term(term: str) -> str:
    """Lower-case and collapse whitespace (the taxonomy's comparison)."""
    return " ".join(term.lower().split())


def _csv_text(frame: pd.DataFrame) -> str:
    """Serialise a frame as UTF-8 CSV text with ``\\n`` line ends and minimal quoting."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def _fmt_coord(values: np.ndarray) -> list[str]:
    """Coordinates as fixed 6-decimal strings (empty for NaN)."""
    return ["" if math.isnan(v) else f"{v:.{COORD_DECIMALS}f}" for v in values]


# --------------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------------
def _round_geometry(geom: shapely.Geometry) -> shapely.Geometry:
    """Round every coordinate to 6 decimals (about 0.1 m)."""
    return shapely.transform(geom, lambda xy: np.round(xy, COORD_DECIMALS))


def clean_polygons(geoms: Sequence[shapely.Geometry]) -> tuple[list[shapely.Geometry], dict[str, int]]:
    """Make polygons valid, round them to 6 decimals and orient them as RFC 7946 asks.

    Parameters
    ----------
    geoms : sequence of shapely.Geometry
        Polygons or multipolygons in EPSG:4326.

    Returns
    -------
    list of shapely.Geometry
        Valid, rounded, counter-clockwise polygons.
    dict
        ``invalid_as_read`` and ``invalid_after_rounding``: how many geometries ``make_valid`` repaired.
    """
    repairs = {"invalid_as_read": 0, "invalid_after_rounding": 0}
    cleaned = []
    for geom in geoms:
        if not geom.is_valid:
            repairs["invalid_as_read"] += 1
            geom = shapely.make_valid(geom)
        geom = _round_geometry(geom)
        if not geom.is_valid:
            repairs["invalid_after_rounding"] += 1
            geom = shapely.make_valid(geom)
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise ValueError(f"make_valid turned a polygon into {geom.geom_type}; inspect the source geometry")
        cleaned.append(shapely.orient_polygons(geom, exterior_cw=False))
    return cleaned, repairs


def geojson_text(features: list[tuple[dict, shapely.Geometry]]) -> str:
    """A GeoJSON FeatureCollection (RFC 7946, WGS84), one feature per line for readable diffs.

    Parameters
    ----------
    features : list of (dict, shapely.Geometry)
        Properties (in output order) and geometry of each feature.

    Returns
    -------
    str
        The file text.
    """
    lines = []
    for properties, geom in features:
        feature = {"type": "Feature", "properties": properties, "geometry": mapping(_round_geometry(geom))}
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


def sample_in_polygon(rng: np.random.Generator, polygon: shapely.Geometry, n: int, *, batch: int = 4096) -> np.ndarray:
    """Uniform random points inside a polygon by rejection from its bounding box.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, 2)``: latitude, longitude.
    """
    shapely.prepare(polygon)
    minx, miny, maxx, maxy = polygon.bounds
    found: list[np.ndarray] = []
    total = 0
    while total < n:
        xs = rng.uniform(minx, maxx, batch)
        ys = rng.uniform(miny, maxy, batch)
        inside = shapely.contains_xy(polygon, xs, ys)
        found.append(np.column_stack([ys[inside], xs[inside]]))
        total += int(inside.sum())
    return np.vstack(found)[:n] if found else np.empty((0, 2))


def point_in_areas(areas: gpd.GeoDataFrame, lat: np.ndarray, lon: np.ndarray, column: str) -> np.ndarray:
    """The ``column`` value of the area containing each point (None outside every area)."""
    result = np.full(len(lat), None, dtype=object)
    for value, geom in zip(areas[column], areas.geometry, strict=True):
        shapely.prepare(geom)
        inside = shapely.contains_xy(geom, lon, lat)
        result[inside & pd.isna(result)] = value
    return result


# --------------------------------------------------------------------------------------------------
# Real inputs
# --------------------------------------------------------------------------------------------------
def check_inputs(shared: Path) -> dict[str, Path]:
    """Locate the real inputs and check their sha256 against their PROVENANCE.md.

    Raises
    ------
    FileNotFoundError
        When ``shared`` or a file is missing.
    ValueError
        When a file's sha256 differs from the one recorded in its source folder.
    """
    if not shared.is_dir():
        raise FileNotFoundError(
            f"`--shared` folder {shared} does not exist; point it at the shared real-data folder "
            "(default ../shared/data/real next to the repository)"
        )
    paths = {}
    for key, (folder, name) in REAL_INPUTS.items():
        path = shared / folder / name
        if not path.is_file():
            raise FileNotFoundError(f"real input {path} is missing; the demo needs {folder}/{name}")
        actual = _sha256(path)
        if actual != EXPECTED_SHA256[key]:
            raise ValueError(
                f"{path} has sha256 {actual}, but {folder}/PROVENANCE.md records {EXPECTED_SHA256[key]}; "
                "restore the original file or update the provenance first"
            )
        paths[key] = path
    return paths


def read_precincts(precincts_path: Path, stations_path: Path) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """The six demo precincts with Census-2022 code, name and population.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code, name, municipality, population, source_id, geometry``, sorted by code.
    dict
        Geometry repair counts (see :func:`clean_polygons`).
    """
    raw = gpd.read_file(precincts_path)  # TopoJSON; GDAL reads the object "collection"
    raw = raw[raw["id"].isin(DEMO_PRECINCT_IDS)].copy()
    stations = pd.read_csv(stations_path, dtype={"code": str})
    stations["key"] = stations["name"].str.casefold()
    raw["key"] = raw["id"].str.replace("_", " ").str.casefold()
    columns = ["key", "code", "name", "population", "area_km2"]
    joined = raw.merge(stations[columns], on="key", how="left", validate="1:1")
    if joined["code"].isna().any() or len(joined) != len(DEMO_PRECINCT_IDS):
        missing = sorted(set(DEMO_PRECINCT_IDS) - set(joined.loc[joined["code"].notna(), "id"]))
        raise ValueError(f"precincts {missing} have no Census-2022 row in {stations_path.name}")
    geoms, repairs = clean_polygons(list(joined.geometry))
    precincts = gpd.GeoDataFrame(
        {
            "code": joined["code"].to_numpy(),
            "name": joined["name"].to_numpy(),
            "municipality": MUNICIPALITY,
            "population": joined["population"].astype(int).to_numpy(),
            "source_id": joined["id"].to_numpy(),
            "area_km2_2022": joined["area_km2"].to_numpy(),
        },
        geometry=geoms,
        crs=WGS84,
    )
    return precincts.sort_values("code", kind="stable").reset_index(drop=True), repairs


def _title(name: str) -> str:
    """Title-case a sub-district name, keeping codes such as ``T2-V2B``, ``RR`` and ``SP`` upper-case."""
    words = []
    for word in name.split():
        keep = len(word) <= 2 or any(ch.isdigit() for ch in word)
        words.append(word if keep else word.capitalize())
    return " ".join(words)


def _slug(name: str) -> str:
    """``HARARE HOLOMISA`` -> ``HARARE-HOLOMISA``."""
    return re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")


def read_neighbourhoods(gdb_zip: Path, precincts: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """The 30 Khayelitsha sub-districts with codes and an areal-weighted population estimate.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code, name, municipality, population, source_name, geometry``, sorted by code.
    dict
        Geometry repair counts.
    """
    raw = gpd.read_file(f"/vsizip/{gdb_zip.resolve()}/Sub_dist_Khayelitsha.gdb", layer="Sub_districts")
    raw = raw.reset_index(drop=True)
    centroids = raw.to_crs(METRIC_CRS).centroid
    unnamed = raw.index[raw["NAME"].isna()]
    order = sorted(unnamed, key=lambda i: (centroids[i].x, centroids[i].y))  # west to east
    codes, names = [], []
    for i, source_name in enumerate(raw["NAME"]):
        if pd.isna(source_name):
            k = order.index(i) + 1
            codes.append(f"KHA-UNNAMED-{k}")
            names.append(f"Unnamed sub-area {k}")
        else:
            codes.append(f"KHA-{_slug(source_name)}")
            names.append(_title(source_name))
    geoms, repairs = clean_polygons(list(raw.geometry))
    hoods = gpd.GeoDataFrame(
        {"code": codes, "name": names, "municipality": MUNICIPALITY, "source_name": raw["NAME"]},
        geometry=geoms,
        crs=WGS84,
    )
    hoods["population"] = estimate_population(hoods, precincts)
    columns = ["code", "name", "municipality", "population", "source_name", "geometry"]
    return hoods[columns].sort_values("code", kind="stable").reset_index(drop=True), repairs


def estimate_population(hoods: gpd.GeoDataFrame, precincts: gpd.GeoDataFrame) -> np.ndarray:
    """Areal-weighted population: sum over precincts of population x (overlap area / precinct area).

    Areas are computed in EPSG:32734 (metres). This assumes people are spread evenly over each precinct,
    which they are not; it is an estimate for rates, not a census count.
    """
    hoods_m = hoods.to_crs(METRIC_CRS).geometry
    precincts_m = precincts.to_crs(METRIC_CRS)
    estimate = np.zeros(len(hoods_m))
    for population, geom in zip(precincts_m["population"], precincts_m.geometry, strict=True):
        overlap = shapely.area(shapely.intersection(hoods_m.to_numpy(), geom))
        estimate += population * overlap / geom.area
    return np.rint(estimate).astype(int)


def read_roads(gdb_zip: Path) -> gpd.GeoDataFrame:
    """Road centrelines (City of Cape Town schema) around Khayelitsha, EPSG:4326."""
    return gpd.read_file(f"/vsizip/{gdb_zip.resolve()}/Sub_dist_Khayelitsha.gdb", layer="roads")


def read_saps_mix(crimestats_path: Path, precincts: gpd.GeoDataFrame) -> pd.DataFrame:
    """Counts per (precinct, SAPS category) in the latest year of the SAPS station statistics.

    Returns
    -------
    pandas.DataFrame
        Columns ``code, name, category, count``; rows with a zero count dropped; stable order.
    """
    stats = pd.read_csv(crimestats_path)
    stats["key"] = stats["Station"].str.casefold()
    keys = precincts.assign(key=precincts["name"].str.casefold())[["key", "code", "name"]]
    mix = stats.merge(keys, on="key", how="inner")[["code", "name", "Category", CRIMESTATS_YEAR]]
    mix = mix.rename(columns={"Category": "category", CRIMESTATS_YEAR: "count"})
    if mix["code"].nunique() != len(precincts):
        raise ValueError(f"SAPS statistics lack some demo stations: found {sorted(mix['name'].unique())}")
    mix = mix[mix["count"] > 0]
    return mix.sort_values(["code", "category"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Schools (real rows, copied byte-for-byte)
# --------------------------------------------------------------------------------------------------
DIRTY_SCHOOL_EMIS = ("100000593", "100000578", "100000127")  # two with "." coordinates, one with lon 118.68


def schools_text(schools_path: Path, precincts: gpd.GeoDataFrame) -> tuple[str, dict[str, int]]:
    """Header plus the school rows inside the demo precincts, plus three dirty rows, lines unmodified.

    Returns
    -------
    str
        The CSV text.
    dict
        ``inside`` and ``dirty`` row counts.
    """
    lines = schools_path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    i_emis, i_lon, i_lat = (header.index(c) for c in ("NatEmis", "GIS_Longitude", "GIS_Latitude"))
    union = precincts.geometry.union_all()
    shapely.prepare(union)
    kept, counts = [lines[0]], {"inside": 0, "dirty": 0}
    for line in lines[1:]:
        row = next(csv.reader([line]))
        if row[i_emis] in DIRTY_SCHOOL_EMIS:
            kept.append(line)
            counts["dirty"] += 1
            continue
        try:
            lon, lat = float(row[i_lon]), float(row[i_lat])
        except ValueError:
            continue
        if shapely.contains_xy(union, lon, lat):
            kept.append(line)
            counts["inside"] += 1
    if counts["dirty"] != len(DIRTY_SCHOOL_EMIS):
        raise ValueError(f"expected dirty school rows {DIRTY_SCHOOL_EMIS}, found {counts['dirty']}")
    return "".join(kept), counts


# --------------------------------------------------------------------------------------------------
# Anchors: places named in the tables above
# --------------------------------------------------------------------------------------------------
def anchor_points(hoods: gpd.GeoDataFrame) -> dict[str, tuple[float, float]]:
    """(lat, lon) of every anchor: interchanges by name, sub-districts by source NAME (representative point)."""
    anchors = {a.name: (a.lat, a.lon) for a in INTERCHANGES}
    for source_name, geom in zip(hoods["source_name"], hoods.geometry, strict=True):
        if isinstance(source_name, str):
            point = geom.representative_point()
            anchors[source_name] = (point.y, point.x)
    return anchors


def _placed(anchors: dict[str, tuple[float, float]], anchor: str, east_m: float, north_m: float) -> tuple[float, float]:
    """(lat, lon) of a point ``east_m``/``north_m`` metres from a named anchor, rounded to 6 decimals."""
    lat, lon = _offset(*anchors[anchor], east_m, north_m)
    return round(float(lat), COORD_DECIMALS), round(float(lon), COORD_DECIMALS)


def assets_text(hoods: gpd.GeoDataFrame) -> str:
    """SIMULATED ABCD assets as CSV text (``name,abcd_category,type,custodian,sharing_consent,latitude,longitude``)."""
    anchors = anchor_points(hoods)
    union = hoods.geometry.union_all()
    rows = []
    for name, category, kind, custodian, anchor, east_m, north_m in ASSETS:
        if category not in ABCD_CATEGORIES:
            raise ValueError(f"asset {name!r}: abcd_category {category!r} not in {ABCD_CATEGORIES}")
        lat, lon = _placed(anchors, anchor, east_m, north_m)
        if not union.contains(shapely.Point(lon, lat)):
            raise ValueError(f"asset {name!r} at {lat},{lon} falls outside the demo neighbourhoods; move it")
        rows.append(
            {
                "name": name,
                "abcd_category": category,
                "type": kind,
                "custodian": custodian,
                "sharing_consent": ASSET_CONSENT.get(name, ""),
                "latitude": f"{lat:.6f}",
                "longitude": f"{lon:.6f}",
            }
        )
    return _csv_text(pd.DataFrame(rows))


# --------------------------------------------------------------------------------------------------
# Interventions
# --------------------------------------------------------------------------------------------------
def financial_year(day: str, sphere: str = "municipal") -> str:
    """Financial year of an ISO date in the sphere's budget: municipal 2025-08-01 -> ``2025/26``,
    provincial 2026-04-01 -> ``2026/27`` (``pipelines.act.finance``)."""
    return financial_year_of(day, sphere).label


def _road_route(roads: gpd.GeoDataFrame, hoods: gpd.GeoDataFrame, road: str, hood: str, max_m: float) -> LineString:
    """The longest continuous piece of a named road inside a sub-district, cut to ``max_m`` metres."""
    area = hoods.loc[hoods["source_name"] == hood].to_crs(METRIC_CRS).geometry.iloc[0]
    parts = roads.loc[roads["ROAD_NAME"] == road].to_crs(METRIC_CRS).geometry
    merged = linemerge(shapely.intersection(shapely.union_all(parts.to_numpy()), area))
    lines = list(getattr(merged, "geoms", [merged]))
    longest = max((g for g in lines if g.geom_type == "LineString"), key=lambda g: g.length)
    route = substring(longest, 0, min(max_m, longest.length))
    route = shapely.simplify(route, 2.0)  # centreline vertices every few metres are not needed
    return gpd.GeoSeries([route], crs=METRIC_CRS).to_crs(WGS84).iloc[0]


def _intervention_geometry(
    spec: tuple, anchors: dict[str, tuple[float, float]], roads: gpd.GeoDataFrame, hoods: gpd.GeoDataFrame
) -> shapely.Geometry:
    """Build an intervention's geometry from its spec (see ``INTERVENTIONS``)."""
    kind = spec[0]
    if kind == "road":
        return _road_route(roads, hoods, spec[1], spec[2], spec[3])
    lat, lon = _placed(anchors, spec[1], spec[2], spec[3])
    if kind == "point":
        return shapely.Point(lon, lat)
    if kind == "square":
        half = spec[4]
        (south, west), (north, east) = (_offset(lat, lon, -half, -half), _offset(lat, lon, half, half))
        return shapely.box(float(west), float(south), float(east), float(north))
    raise ValueError(f"unknown intervention geometry kind {kind!r}; use point, road or square")


def interventions_text(hoods: gpd.GeoDataFrame, roads: gpd.GeoDataFrame) -> str:
    """SIMULATED interventions as GeoJSON (properties ``name,type,lead,partners,status,...``)."""
    anchors = anchor_points(hoods)
    union = hoods.geometry.union_all()
    features = []
    for item in INTERVENTIONS:
        if item["status"] not in INTERVENTION_STATUSES:
            raise ValueError(f"intervention {item['name']!r}: status {item['status']!r} not in {INTERVENTION_STATUSES}")
        geom = _intervention_geometry(item["geometry"], anchors, roads, hoods)
        if not union.contains(geom.centroid):
            raise ValueError(f"intervention {item['name']!r} lies outside the demo neighbourhoods; move it")
        properties = {key: item[key] for key in ("name", "type", "lead", "partners", "status", "budget_zar")}
        sphere = item.get("funding_sphere", "municipal")
        properties |= {
            "financial_year": financial_year(item["start"], sphere),
            "funding_sphere": sphere,
            "start": item["start"],
            "end": item["end"],
        }
        features.append((properties, geom))
    return geojson_text(features)


# --------------------------------------------------------------------------------------------------
# Time sampling
# --------------------------------------------------------------------------------------------------
def window_days(start: pd.Timestamp = WINDOW_START, end: pd.Timestamp = WINDOW_END) -> pd.DatetimeIndex:
    """Every day of the simulation window."""
    return pd.date_range(start, end, freq="D")


def day_weights(days: pd.DatetimeIndex, week: np.ndarray) -> np.ndarray:
    """Probability of each day: weekday factor x festive-season cycle x month-end payday spike."""
    season = 1 + SEASON_AMPLITUDE * np.cos(2 * np.pi * (days.day_of_year.to_numpy() - SEASON_PEAK_DOY) / 365.25)
    payday = np.where((days.day >= 25) | (days.day == 1), PAYDAY_FACTOR, 1.0)
    weights = week[days.day_of_week.to_numpy()] * season * payday
    return weights / weights.sum()


def sample_times(
    rng: np.random.Generator, days: pd.DatetimeIndex, week: np.ndarray, hours: np.ndarray, n: int
) -> pd.DatetimeIndex:
    """``n`` timestamps (minute resolution) drawn from the day and hour profiles."""
    day = rng.choice(len(days), size=n, p=day_weights(days, week))
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    minute = rng.integers(0, 60, size=n)
    offsets = pd.to_timedelta(hour * 60 + minute, unit="min")
    return days[day] + offsets


# --------------------------------------------------------------------------------------------------
# Municipal incidents
# --------------------------------------------------------------------------------------------------
def place_taverns(rng: np.random.Generator, precincts: gpd.GeoDataFrame, mix: pd.DataFrame) -> pd.DataFrame:
    """SIMULATED taverns/shebeens: per precinct in proportion to its crime volume, none near the hotspot.

    Returns
    -------
    pandas.DataFrame
        Columns ``code, lat, lon, weight``.
    """
    totals = mix.groupby("code", sort=True)["count"].sum()
    raw = totals / totals.sum() * (N_TAVERNS - 3 * len(totals))
    counts = 3 + np.floor(raw).astype(int)
    remainder = (raw - np.floor(raw)).sort_values(ascending=False, kind="stable")
    for code in remainder.index[: N_TAVERNS - counts.sum()]:  # largest remainder
        counts[code] += 1
    rows = []
    for code, k in counts.items():
        polygon = precincts.loc[precincts["code"] == code].geometry.iloc[0]
        points = np.empty((0, 2))
        while len(points) < k:
            candidate = sample_in_polygon(rng, polygon, 1)
            far = _distance_m(candidate[:, 0], candidate[:, 1], HOTSPOT_LAT, HOTSPOT_LON)
            if far[0] >= TAVERN_MIN_DISTANCE_FROM_HOTSPOT_M:
                points = np.vstack([points, candidate])
        for lat, lon in points:
            rows.append({"code": code, "lat": lat, "lon": lon, "weight": rng.gamma(2.0, 1.0)})
    return pd.DataFrame(rows)


def _cluster_points(
    rng: np.random.Generator, centres_lat: np.ndarray, centres_lon: np.ndarray, sigma_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian scatter around given centres."""
    east = rng.normal(0, sigma_m, len(centres_lat))
    north = rng.normal(0, sigma_m, len(centres_lat))
    return _offset(centres_lat, centres_lon, east, north)


def _locate_component(
    rng: np.random.Generator,
    component: np.ndarray,
    codes: np.ndarray,
    precincts: gpd.GeoDataFrame,
    taverns: pd.DataFrame,
) -> tuple:
    """Coordinates for each row given its component (background/interchange/tavern) and precinct.

    Returns
    -------
    tuple
        Latitude and longitude arrays, the component actually used (interchange/tavern fall back to
        background in a precinct without such sites) and the interchange table with precinct codes.
    """
    lat, lon = np.full(len(codes), np.nan), np.full(len(codes), np.nan)
    hubs = pd.DataFrame([vars(a) for a in INTERCHANGES])
    hubs["code"] = point_in_areas(precincts, hubs["lat"].to_numpy(), hubs["lon"].to_numpy(), "code")
    component = component.copy()
    for code, polygon in zip(precincts["code"], precincts.geometry, strict=True):
        in_code = codes == code
        for kind, sites, sigma in ((INTERCHANGE, hubs, INTERCHANGE_SIGMA_M), (TAVERN, taverns, TAVERN_SIGMA_M)):
            rows = np.flatnonzero(in_code & (component == kind))
            local = sites[sites["code"] == code]
            if local.empty:
                component[rows] = BACKGROUND
                continue
            pick = rng.choice(len(local), size=len(rows), p=(local["weight"] / local["weight"].sum()).to_numpy())
            lat[rows], lon[rows] = _cluster_points(
                rng, local["lat"].to_numpy()[pick], local["lon"].to_numpy()[pick], sigma
            )
        rows = np.flatnonzero(in_code & (component == BACKGROUND))
        points = sample_in_polygon(rng, polygon, len(rows))
        lat[rows], lon[rows] = points[:, 0], points[:, 1]
    return lat, lon, component, hubs


def _describe(rng: np.random.Generator, crime: str, component: int, place: str | None) -> str:
    """A short free-text description for one municipal record."""
    templates = MUNICIPAL_TEMPLATES.get(crime, DEFAULT_TEMPLATES)
    template = templates[rng.integers(len(templates))]
    item = ITEMS[rng.integers(len(ITEMS))]
    if place is None:
        places = PLACES[component]
        place = places[rng.integers(len(places))]
    text = template.format(item=item, Item=item.capitalize(), place=place, crime=crime)
    return text[0].upper() + text[1:]


def simulate_base_incidents(
    rng: np.random.Generator, precincts: gpd.GeoDataFrame, mix: pd.DataFrame, taverns: pd.DataFrame
) -> pd.DataFrame:
    """The ordinary (non-hotspot) municipal incidents: type mix, location, time, description."""
    pick = rng.choice(len(mix), size=N_MUNICIPAL, p=(mix["count"] / mix["count"].sum()).to_numpy())
    codes = mix["code"].to_numpy()[pick]
    crimes = mix["category"].to_numpy()[pick]
    shares = np.array([COMPONENT_SHARES.get(c, DEFAULT_COMPONENT_SHARES) for c in crimes])
    component = (rng.random(N_MUNICIPAL)[:, None] > np.cumsum(shares, axis=1)).sum(axis=1)
    lat, lon, component, hubs = _locate_component(rng, component, codes, precincts, taverns)
    nearest_hub = _nearest_hub_place(hubs, lat, lon)
    commute = (component == INTERCHANGE) & np.isin(crimes, list(COMMUTE_TYPES))
    daytime = np.isin(crimes, list(DAY_TYPES)) & ~commute
    night = ~(commute | daytime)
    when = np.full(N_MUNICIPAL, np.datetime64("NaT"), dtype="datetime64[ns]")
    days = window_days()
    for rows, week, hours in (
        (daytime, WEEK_DAY, HOURS_DAY),
        (commute, WEEK_DAY, HOURS_COMMUTE),
        (night, WEEK_NIGHT, HOURS_NIGHT),
    ):
        when[rows] = sample_times(rng, days, week, hours, int(rows.sum())).to_numpy(dtype="datetime64[ns]")
    descriptions = [
        _describe(rng, crime, comp, nearest_hub[i] if comp == INTERCHANGE else None)
        for i, (crime, comp) in enumerate(zip(crimes, component, strict=True))
    ]
    return pd.DataFrame(
        {"when": when, "crime_type": crimes, "lat": lat, "lon": lon, "description": descriptions, "home": codes}
    ).assign(hotspot=False)


def _nearest_hub_place(hubs: pd.DataFrame, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """The description phrase of the interchange nearest to each point."""
    distances = np.column_stack(
        [_distance_m(lat, lon, h_lat, h_lon) for h_lat, h_lon in zip(hubs["lat"], hubs["lon"], strict=True)]
    )
    return hubs["place"].to_numpy()[np.nanargmin(np.nan_to_num(distances, nan=np.inf), axis=1)]


def simulate_hotspot(rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, int]]:
    """The planted emerging hotspot: robbery/assault within 150 m, only in its three months."""
    frames, per_month = [], {}
    for month, mean in zip(HOTSPOT_MONTHS, HOTSPOT_MEAN_PER_MONTH, strict=True):
        n = int(rng.poisson(mean))
        per_month[month] = n
        start = pd.Timestamp(f"{month}-01")
        days = window_days(start, start + pd.offsets.MonthEnd(0))
        when = sample_times(rng, days, WEEK_NIGHT, HOURS_COMMUTE + HOURS_NIGHT, n)
        radius = np.minimum(np.abs(rng.normal(0, HOTSPOT_RADIUS_M / 2, n)), HOTSPOT_RADIUS_M - 5)
        angle = rng.uniform(0, 2 * np.pi, n)
        lat, lon = _offset(HOTSPOT_LAT, HOTSPOT_LON, radius * np.sin(angle), radius * np.cos(angle))
        types = list(HOTSPOT_TYPES)
        crimes = np.array(types)[rng.choice(len(types), size=n, p=list(HOTSPOT_TYPES.values()))]
        descriptions = [_describe(rng, c, HOTSPOT, None) for c in crimes]
        frames.append(
            pd.DataFrame({"when": when, "crime_type": crimes, "lat": lat, "lon": lon, "description": descriptions})
        )
    return pd.concat(frames, ignore_index=True).assign(hotspot=True, home=None), per_month


def _case_numbers(frame: pd.DataFrame) -> list[str]:
    """SAPS-style case numbers, numbered per station and month in time order: ``HAR/CAS/0012/08/2026``."""
    serial: dict[tuple[str, str], int] = {}
    numbers = []
    for station, when in zip(frame["station"], frame["when"], strict=True):
        key = (station, when.strftime("%m/%Y"))
        serial[key] = serial.get(key, 0) + 1
        numbers.append(f"{STATION_ABBREVIATIONS[station]}/CAS/{serial[key]:04d}/{key[1]}")
    return numbers


def _plant_municipal_dirt(rng: np.random.Generator, frame: pd.DataFrame) -> pd.DataFrame:
    """Empty, zero and swapped coordinates and exact duplicate rows, all on non-hotspot rows."""
    candidates = np.flatnonzero(~frame["hotspot"].to_numpy())
    k = MUNICIPAL_DIRTY
    chosen = rng.choice(candidates, size=sum(k.values()), replace=False)
    empty, zero, swapped, duplicated = np.split(
        chosen, np.cumsum([k["empty_coordinates"], k["zero_coordinates"], k["swapped_coordinates"]])
    )
    frame = frame.copy()
    frame["latitude"] = _fmt_coord(frame["lat"].to_numpy())
    frame["longitude"] = _fmt_coord(frame["lon"].to_numpy())
    frame.loc[empty, ["latitude", "longitude"]] = ""
    frame.loc[zero, ["latitude", "longitude"]] = "0"
    frame.loc[swapped, ["latitude", "longitude"]] = frame.loc[swapped, ["longitude", "latitude"]].to_numpy()
    frame["dirt"] = ""
    frame.loc[empty, "dirt"] = "empty_coordinates"
    frame.loc[zero, "dirt"] = "zero_coordinates"
    frame.loc[swapped, "dirt"] = "swapped_coordinates"
    copies = frame.loc[np.sort(duplicated)].assign(dirt="duplicate_rows")
    # Duplicates sit right after their originals, as a double export from a case system produces.
    combined = pd.concat([frame, copies]).sort_index(kind="stable")
    return combined.reset_index(drop=True)


def simulate_municipal(
    rng: np.random.Generator, precincts: gpd.GeoDataFrame, mix: pd.DataFrame, taverns: pd.DataFrame
) -> tuple[pd.DataFrame, dict]:
    """SIMULATED municipal incident records, with the emerging hotspot and dirty rows planted.

    Returns
    -------
    pandas.DataFrame
        Output columns plus ``hotspot`` and ``dirt`` bookkeeping columns.
    dict
        What was planted (hotspot counts per month).
    """
    base = simulate_base_incidents(rng, precincts, mix, taverns)
    hotspot, per_month = simulate_hotspot(rng)
    frame = pd.concat([base, hotspot], ignore_index=True)
    found = point_in_areas(precincts, frame["lat"].to_numpy(), frame["lon"].to_numpy(), "code")
    frame["code"] = np.where(pd.isna(found), frame["home"], found)
    frame["outside"] = pd.isna(found)
    names = dict(zip(precincts["code"], precincts["name"], strict=True))
    frame["station"] = frame["code"].map(names)
    frame = frame.sort_values(["when", "station", "lat", "lon"], kind="stable").reset_index(drop=True)
    frame["case_number"] = _case_numbers(frame)
    frame["date_time"] = frame["when"].dt.strftime("%Y-%m-%d %H:%M")
    empty = rng.random(len(frame)) < EMPTY_DESCRIPTION_SHARE
    frame.loc[empty, "description"] = ""
    return _plant_municipal_dirt(rng, frame), {"per_month": per_month, "empty_descriptions": int(empty.sum())}


# --------------------------------------------------------------------------------------------------
# CSO community survey (KoboToolbox export layout)
# --------------------------------------------------------------------------------------------------
def _survey_locations(
    rng: np.random.Generator, n: int, precincts: gpd.GeoDataFrame, taverns: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Survey points in the CSO's precincts: near interchanges, near taverns, or anywhere in the precinct.

    Returns latitude, longitude and whether each point came from the tavern component.
    """
    area = precincts[precincts["name"].isin(SURVEY_PRECINCTS)]
    weights = np.array([SURVEY_PRECINCTS[name] for name in area["name"]])
    codes = area["code"].to_numpy()[rng.choice(len(area), size=n, p=weights / weights.sum())]
    component = rng.choice(3, size=n, p=SURVEY_COMPONENT_SHARES)
    lat, lon, component, _ = _locate_component(rng, component, codes, precincts, taverns)
    return lat, lon, component == TAVERN


def _survey_type_column(rng: np.random.Generator, n: int, tavern: np.ndarray) -> np.ndarray:
    """Community wording for each report; tavern-area reports lean to shebeen/violence wording."""
    names = list(SURVEY_TYPES)
    weights = np.array(list(SURVEY_TYPES.values()))
    types = np.array(names, dtype=object)[rng.choice(len(names), size=n, p=weights / weights.sum())]
    near = np.flatnonzero(tavern & (rng.random(n) < 0.6))
    types[near] = np.array(SURVEY_TAVERN_TYPES, dtype=object)[rng.integers(len(SURVEY_TAVERN_TYPES), size=len(near))]
    return types


def _survey_dates(rng: np.random.Generator, n: int) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Incident dates (denser in later months) and the lag in days until the report was made."""
    days = window_days()
    month_index = (days.year - WINDOW_START.year) * 12 + days.month - WINDOW_START.month
    growth = 1 + 2 * month_index.to_numpy() / 23  # the CSO's survey grows to three times its first rate
    base = day_weights(days, WEEK_NIGHT) * growth
    incident = days[rng.choice(len(days), size=n, p=base / base.sum())]
    lag = rng.geometric(0.35, size=n) - 1
    return incident, lag


def _uuid(rng: np.random.Generator) -> str:
    """A version-4 UUID drawn from ``rng`` (deterministic)."""
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


def _kobo_timestamps(rng: np.random.Generator, incident: pd.Timestamp, lag: int) -> dict[str, str]:
    """start/end (local, +02:00), today, and _submission_time (UTC, possibly uploaded later)."""
    opened = incident + pd.Timedelta(days=int(lag))
    opened = min(opened, WINDOW_END) + pd.Timedelta(
        minutes=int(rng.integers(8 * 60, 19 * 60)), seconds=int(rng.integers(60))
    )
    closed = opened + pd.Timedelta(seconds=int(rng.integers(120, 900)))
    delay = pd.Timedelta(seconds=int(rng.integers(5, 300)))
    if rng.random() < 0.3:  # collected offline, uploaded later
        delay += pd.Timedelta(hours=int(rng.integers(1, 72)))
    submitted_utc = min(closed + delay, WINDOW_END + pd.Timedelta(hours=23, minutes=59)) - pd.Timedelta(hours=2)
    return {
        "start": opened.strftime("%Y-%m-%dT%H:%M:%S.000+02:00"),
        "end": closed.strftime("%Y-%m-%dT%H:%M:%S.000+02:00"),
        "today": opened.strftime("%Y-%m-%d"),
        "_submission_time": submitted_utc.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def _reporter(rng: np.random.Generator) -> dict[str, str]:
    """Fake reporter fields: filled for about 30 % of submissions."""
    if rng.random() >= 0.3:
        return {"reporter/reporter_name": "", "reporter/reporter_phone": "", "reporter/consent": "no"}
    name = f"{FIRST_NAMES[rng.integers(len(FIRST_NAMES))]} {SURNAMES[rng.integers(len(SURNAMES))]}"
    prefix, tail = ("082", "083", "072", "061")[rng.integers(4)], int(rng.integers(100, 200))
    phone = f"{prefix} 555 0{tail}" if rng.random() < 0.5 else f"+27{prefix[1:]}5550{tail}"
    return {"reporter/reporter_name": name, "reporter/reporter_phone": phone, "reporter/consent": "yes"}


def _geopoint(rng: np.random.Generator, lat: float, lon: float) -> dict[str, str]:
    """Kobo geopoint ("lat lon alt acc") plus its split columns; empty when lat is NaN."""
    keys = ("incident/location", "incident/_location_latitude", "incident/_location_longitude")
    keys += ("incident/_location_altitude", "incident/_location_precision")
    if math.isnan(lat):
        return dict.fromkeys(keys, "")
    altitude = f"{max(rng.normal(25, 8), 0):.1f}"
    precision = f"{rng.lognormal(1.8, 0.5):.1f}"
    lat_s, lon_s = f"{lat:.6f}", f"{lon:.6f}"
    return dict(zip(keys, (f"{lat_s} {lon_s} {altitude} {precision}", lat_s, lon_s, altitude, precision), strict=True))


def _survey_text(rng: np.random.Generator, incident_type: str) -> str:
    """A community description for a report of ``incident_type`` (misspelled types use the intended text)."""
    intended = {
        "illegal shebean": "illegal shebeen",
        "housebraking": "housebreaking",
        "domestic violance": "domestic violence",
        "drug delaing": "drug dealing",
    }
    key = _normalise_term(intended.get(incident_type, incident_type))
    options = SURVEY_TEMPLATES.get(key, ("Reported to the safety forum",))
    return options[rng.integers(len(options))]


def simulate_survey(
    rng: np.random.Generator, precincts: gpd.GeoDataFrame, taverns: pd.DataFrame
) -> tuple[pd.DataFrame, dict]:
    """SIMULATED CSO survey rows in KoboCAT CSV export layout, with PII, odd wording and dirt planted."""
    n_general = N_SURVEY - N_SURVEY_HOTSPOT
    lat, lon, tavern = _survey_locations(rng, n_general, precincts, taverns)
    types = _survey_type_column(rng, n_general, tavern)
    incident, lag = _survey_dates(rng, n_general)
    hot = _survey_hotspot(rng)
    lat, lon = np.concatenate([lat, hot["lat"]]), np.concatenate([lon, hot["lon"]])
    types = np.concatenate([types, hot["types"]])
    incident = incident.append(hot["incident"])
    lag = np.concatenate([lag, hot["lag"]])
    is_hot = np.arange(N_SURVEY) >= n_general
    planted = _plant_wording(rng, types, is_hot)
    rows = []
    for i in range(N_SURVEY):
        row = _kobo_timestamps(rng, incident[i], int(lag[i]))
        row["incident/incident_date"] = incident[i].strftime("%d/%m/%Y")
        row["incident/incident_type"] = types[i]
        row["incident/description"] = planted["text"].get(i) or _survey_text(rng, types[i])
        row |= _geopoint(rng, lat[i], lon[i]) | _reporter(rng)
        instance = _uuid(rng)
        row |= {"meta/instanceID": f"uuid:{instance}", "_uuid": instance, "_tags": "", "_notes": ""}
        row |= {"_validation_status": "{}", "_status": "submitted_via_web", "_submitted_by": _enumerator(rng)}
        rows.append(row)
    frame = pd.DataFrame(rows).assign(hotspot=is_hot, dirt="")
    pii_uuids = {kind: [frame.at[i, "_uuid"] for i in positions] for kind, positions in planted["pii"].items()}
    frame = frame.sort_values("_submission_time", kind="stable")
    frame["_id"] = [str(SURVEY_FIRST_ID + k) for k in range(len(frame))]
    frame = _plant_survey_dirt(rng, frame, set(planted["rows"]))
    return frame, {"pii_uuids": pii_uuids, "hotspot_reports": N_SURVEY_HOTSPOT}


def _enumerator(rng: np.random.Generator) -> str:
    """The Kobo user name of the field worker (empty for anonymous web-form submissions)."""
    names = [name for name, _ in ENUMERATORS]
    weights = np.array([w for _, w in ENUMERATORS])
    return names[rng.choice(len(names), p=weights / weights.sum())]


def _survey_hotspot(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Community reports near the planted hotspot in its three months (corroborating the municipal data)."""
    n = N_SURVEY_HOTSPOT
    radius = rng.uniform(0, 250, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    lat, lon = _offset(HOTSPOT_LAT, HOTSPOT_LON, radius * np.sin(angle), radius * np.cos(angle))
    start = pd.Timestamp(f"{HOTSPOT_MONTHS[0]}-01")
    days = window_days(start, WINDOW_END)
    incident = days[rng.integers(len(days), size=n)]
    types = np.array(SURVEY_HOTSPOT_TYPES, dtype=object)[rng.integers(len(SURVEY_HOTSPOT_TYPES), size=n)]
    return {"lat": lat, "lon": lon, "types": types, "incident": incident, "lag": rng.geometric(0.5, size=n) - 1}


def _plant_wording(rng: np.random.Generator, types: np.ndarray, is_hot: np.ndarray) -> dict:
    """Overwrite some general rows with misspelled/unmatched types and PII descriptions (in place on types).

    Returns
    -------
    dict
        ``text`` (row -> description), ``rows`` (all touched rows, kept clean of other dirt) and ``pii``
        (kind -> list of row positions, replaced by ``_uuid`` values later).
    """
    wording = [(t, None) for t, k in (SURVEY_MISSPELLED | SURVEY_UNMATCHED).items() for _ in range(k)]
    pii = [(kind, t, text) for kind, items in SURVEY_PII.items() for t, text in items]
    sa_id = SA_ID_STEM + _luhn_check_digit(SA_ID_STEM)
    pii.append(("sa_id", "domestic violence", f"She is scared to go to the police. Her ID is {sa_id}"))
    general = np.flatnonzero(~is_hot)
    rows = rng.choice(general, size=len(wording) + len(pii), replace=False)
    text: dict[int, str] = {}
    kinds: dict[str, list[int]] = {}
    for row, (term, _) in zip(rows[: len(wording)], wording, strict=True):
        types[row] = term
    for row, (kind, term, description) in zip(rows[len(wording) :], pii, strict=True):
        types[row] = term
        text[int(row)] = description
        kinds.setdefault(kind, []).append(int(row))
    return {"text": text, "rows": [int(r) for r in rows], "pii": kinds}


def _plant_survey_dirt(rng: np.random.Generator, frame: pd.DataFrame, protected: set[int]) -> pd.DataFrame:
    """Missing/swapped locations, future/unparseable dates and duplicate submissions on ordinary rows."""
    candidates = [i for i in frame.index if i not in protected and not frame.at[i, "hotspot"]]
    k = SURVEY_DIRTY_COUNTS
    chosen = rng.choice(np.array(candidates), size=sum(k.values()) + SURVEY_DUPLICATES, replace=False)
    bounds = np.cumsum([k["missing_location"], k["swapped_coordinates"], k["future_date"], k["unparseable_date"]])
    missing, swapped, future, bad_date, duplicated = np.split(chosen, bounds)
    location_cols = [c for c in KOBO_COLUMNS if c.startswith("incident/") and "location" in c]
    frame.loc[missing, location_cols] = ""
    for i in swapped:
        lat, lon, alt, acc = frame.at[i, "incident/location"].split()
        frame.loc[i, location_cols] = [f"{lon} {lat} {alt} {acc}", lon, lat, alt, acc]
    frame.loc[future, "incident/incident_date"] = list(SURVEY_FUTURE_DATES)
    frame.loc[bad_date, "incident/incident_date"] = list(SURVEY_BAD_DATES)
    for rows, label in ((missing, "missing_location"), (swapped, "swapped_coordinates"), (future, "future_date")):
        frame.loc[rows, "dirt"] = label
    frame.loc[bad_date, "dirt"] = "unparseable_date"
    # A re-downloaded export appended to the first: exact copies at the end, same _uuid and _id.
    copies = frame.loc[np.sort(duplicated)].assign(dirt="duplicate_submission")
    return pd.concat([frame, copies], ignore_index=True)


# --------------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------------
def provenance_text(context: dict) -> str:
    """PROVENANCE.md for data/demo, filled from what the run computed."""
    c = context
    inputs = "\n".join(f"    {EXPECTED_SHA256[k]}  {f}/{n}" for k, (f, n) in REAL_INPUTS.items())
    outputs = "\n".join(f"    {digest}  {name}" for name, digest in c["sha256"].items())
    hot = c["planted"]["emerging_hotspot"]
    md = c["planted"]["incidents_municipal"]["dirty_rows"]
    sd = c["planted"]["cso_survey_kobo"]["dirty_rows"]
    hubs = "\n".join(f"  - {a.name}: {a.lat:.5f}, {a.lon:.5f} ({a.note})" for a in INTERCHANGES)
    pr, nr = c["repairs"]["precincts"], c["repairs"]["neighbourhoods"]
    areas = "\n".join(
        f"| {row.code} | {row.name} | {row.population:,} | {row.area_2015:.2f} | {row.area_km2_2022:.2f} |"
        for row in c["precinct_areas"].itertuples()
    )
    return f"""# AreaSafe demo data (`data/demo/`)

Regenerate with `python scripts/make_demo_data.py` (options `--shared PATH`, default `../shared/data/real`
next to the repository, and `--out PATH`, default `data/demo`). Seed {SEED}; simulation window
{WINDOW_START:%Y-%m-%d} .. {WINDOW_END:%Y-%m-%d} inclusive (24 months). No clock is read: the same inputs and
library versions (numpy, shapely/GEOS, pyogrio/GDAL, pandas) give byte-identical files, which
`tests/test_demo_data.py` checks against the sha256 list at the end of this file.

Files marked **SIMULATED** are invented for demonstration. They must never be presented as real crime,
survey or project data. Names of real places are used for orientation only. This script writes only the
files listed at the end; any other file in this folder comes from another module and has its own provenance note.

## Real inputs (all from `../shared/data/real`, sha256 as recorded in each folder's PROVENANCE.md)

{inputs}

Licences and attribution, as stated by the source folders:
- `za-saps-precincts-2015`: SAPS "Police_bounds" layer (2015-10-30, v1.1.3) via EthanMarrs/crimevis. Licence:
  none stated; SAPS public-sector information. Confirm before any public release.
- `za-police-stations-census2022`: afrith/crime-stats `police_stations.csv`; cleaning ODC PDDL 1.0;
  SAPS/Stats SA data have no explicit terms.
- `khayelitsha-subdistricts-sjc`: Social Justice Coalition, eviction-tracking-toolkit; City of Cape Town
  SDI&GIS-derived. Licence: none stated; internal demo/testing use; ask SJC / check City terms before public release.
- `za-schools-capetown-2017`: DBE EMIS master list 2017 (Western Cape) via MeganBeckett/sa_schools, a subset
  with contact columns already removed. Licence: none stated (DBE). Confirm before public release.
- `za-saps-station-crimestats-2005-2016`: SAPS station statistics via the Kaggle "Crime Statistics for South
  Africa" mirror. Licence: none stated; public-sector statistics.
- The KoboCAT CSV fixtures (BSD-2) were only *read* to copy the export layout; no Kobo file (and none of the
  GPL-3 formpack JSON) is copied into this folder, so no Kobo licence file is needed here.

## precincts.geojson (REAL)
The 6 SAPS precincts of the 2015 release (`policeBounds3.json`, read as TopoJSON by GDAL): Khayelitsha, Harare,
Lingelethu-West, Nyanga, Gugulethu, Philippi_East. Properties: `code` (Census-2022 police-district code from
`police_stations.csv`, matched on name case-insensitively with `_` read as a space), `name` (the CSV's name),
`municipality` ("{MUNICIPALITY}"), `population` (Census 2022, from the same CSV). EPSG:4326, coordinates
rounded to 6 decimals, rings counter-clockwise (RFC 7946). Geometries repaired with `shapely.make_valid`:
{pr["invalid_as_read"]} invalid as read, {pr["invalid_after_rounding"]} invalid after rounding.

Caveat: the populations belong to the **2022** police districts, the polygons to the **2015** release, and
the boundaries moved in between. The 2022 list also has Makhaza (PD199016, population 110,708), which the 2015
release lacks; its area lies within the 2015 Khayelitsha-area polygons. So rates per precinct are indicative
only. Areas (2015 computed in EPSG:32734; 2022 from `area_km2` in the CSV):

| code | name | population 2022 | km^2 (2015 polygon) | km^2 (2022 district) |
|---|---|---|---|---|
{areas}

## neighbourhoods.geojson (REAL boundaries, ESTIMATED population)
The 30 features of layer `Sub_districts` in `Sub_dist_Khayelitsha.gdb.zip` (read through
`/vsizip/.../Sub_dist_Khayelitsha.gdb`). `code` = `KHA-` + the NAME in upper case with non-alphanumerics as
`-` (e.g. `KHA-HARARE-HOLOMISA`); the 2 features with a null NAME are `KHA-UNNAMED-1` and `KHA-UNNAMED-2`
(named "Unnamed sub-area 1/2"), numbered west to east by centroid. `name` is the NAME in title case (codes
such as `T2-V2B`, `RR`, `SP` kept upper-case). `population` is an **areal-weighting ESTIMATE, not a census
count**: the sum over the demo precincts of Census-2022 population x (area of overlap / precinct area),
areas in EPSG:32734, rounded to an integer. Geometries repaired with `make_valid`: {nr["invalid_as_read"]}
invalid as read, {nr["invalid_after_rounding"]} invalid after rounding.
Things found in the source that users of this file should know:
- The two unnamed features are exact geometric duplicates of RR SECTION (`KHA-UNNAMED-1`) and KHAYELITSHA SP
  (`KHA-UNNAMED-2`). They are kept as delivered, so neighbourhoods overlap there and summing `population` over
  all 30 features double-counts those two areas.
- The source attribute AREA_IN_SQKM is about 1.45x the true area (it looks like a Web-Mercator area); it is
  not carried over. True total: 43.9 km^2 for the 30 features, 38.2 km^2 without the duplicates.

## schools.csv (REAL)
Rows of `wc_schools_city_of_cape_town_2017.csv` whose `GIS_Longitude`/`GIS_Latitude` fall inside the demo
precincts ({c["schools"]["inside"]} rows), plus {c["schools"]["dirty"]} real dirty rows kept on purpose
for the ingest's rejection path: NatEmis 100000593 and 100000578 (coordinates "."), 100000127 (longitude
118.677419). Header and every line are byte-for-byte copies of the source, in source order.

## assets_other.csv (SIMULATED)
{len(ASSETS)} illustrative Asset-Based Community Development assets (`name,abcd_category,type,custodian,
sharing_consent,latitude,longitude`). `sharing_consent` is filled only for people's assets (ABCD `individuals`):
who the person agreed may see it (`act`: officials), blank for none recorded (admins only); the public never
sees a person's asset. Names, custodians and positions are **SIMULATED/illustrative**: points are placed at
fixed offsets from sub-district representative points or interchanges. Where a name resembles a real facility
(Harare Library and Harare Square, built with VPUU; Kuyasa Library; clinics), the position is approximate and the
record is not an inventory of that facility.

## incidents_municipal.csv (SIMULATED)
{c["counts"]["incidents_municipal"]} rows (`case_number,date_time,crime_type,latitude,longitude,description,station`),
UTF-8, comma, `date_time` = `YYYY-MM-DD HH:MM` local time (SAST).
- Crime types: SAPS category names. Row (station, category) pairs are drawn in proportion to the real
  {CRIMESTATS_YEAR} SAPS counts of the six stations (so volume per precinct and type mix are realistic);
  categories with zero counts do not occur.
- Places: a mixture per category of (a) a diffuse background, uniform inside the precinct (rejection sampling),
  (b) Gaussian clusters (sigma {INTERCHANGE_SIGMA_M:.0f} m) around transport interchanges:
{hubs}
  and (c) tight clusters (sigma {TAVERN_SIGMA_M:.0f} m) around {N_TAVERNS} SIMULATED taverns/shebeens (not written
  out), placed at least {TAVERN_MIN_DISTANCE_FROM_HOTSPOT_M:.0f} m from the hotspot. Cluster points are not
  clipped: {c["counts"]["outside_precincts"]} clean rows fall outside all six precincts. `station` is the precinct
  containing the point (the generating precinct for points outside).
- Time: evening/night peak (18:00-02:00) for violent and drug crime, a commuter profile (05:00-07:00 and
  17:00-20:00) for robbery/theft at interchanges, a daytime profile for burglary/theft/shoplifting/fraud;
  Friday-Sunday peaks; a +/-{SEASON_AMPLITUDE:.0%} seasonal cycle peaking in late December; x{PAYDAY_FACTOR} on
  payday days (25th to the 1st).
- Case numbers `ABR/CAS/NNNN/MM/YYYY`, numbered per station and month in time order.
- {c["planted"]["incidents_municipal"]["empty_descriptions"]} descriptions (about {EMPTY_DESCRIPTION_SHARE:.0%}) are
  empty.
- **Emerging hotspot**: centre {hot["lat"]}, {hot["lon"]}, radius {hot["radius_m"]:.0f} m, months
  {", ".join(hot["months"])}, neighbourhood `{hot["neighbourhood_code"]}`, precinct `{hot["precinct_code"]}`;
  {sum(hot["incidents_per_month"].values())} robbery/assault incidents ({json.dumps(hot["incidents_per_month"])})
  that exist only in those months. Also in `planted.json`.
- Dirty rows for the rejection path (none touch the hotspot): {md["empty_coordinates"]} with empty coordinates,
  {md["zero_coordinates"]} with `0,0`, {md["swapped_coordinates"]} with latitude and longitude swapped, and
  {md["duplicate_rows"]} exact duplicate rows (same case number, directly after the original).

## cso_survey_kobo.csv (SIMULATED)
{c["counts"]["cso_survey_kobo"]} rows in the KoboCAT (legacy) CSV export layout, modelled on the real KoboCAT
fixtures `tutorial_w_repeats.csv` and `good.csv`: group paths (`incident/...`, `reporter/...`), a geopoint
column `incident/location` holding "lat lon altitude precision" plus its split `_location_*` columns,
`meta/instanceID` = "uuid:" + `_uuid`, `_submission_time` in UTC without zone, `start`/`end` local with
`+02:00`, `_validation_status` "{{}}", `_status` "submitted_via_web". UUIDs are drawn from the seeded generator.
- `incident/incident_date` is dd/mm/yyyy (South African order). Reports are denser in later months
  (tripling over the window), concentrated in the Harare, Khayelitsha and Lingelethu-West precincts near
  interchanges and taverns; {N_SURVEY_HOTSPOT} reports fall within 250 m of the planted hotspot in its months.
- `incident/incident_type` is community wording; every value is a term of `data/taxonomy.yaml` except the
  planted misspellings (value: rows) {json.dumps(SURVEY_MISSPELLED)} and the terms that match nothing
  {json.dumps(SURVEY_UNMATCHED)}.
- Personal data the ingest must drop or redact: `reporter/reporter_name` and `reporter/reporter_phone` are
  filled for about 30 % of rows (fake names; phone numbers in 555 blocks); descriptions contain 4 phone numbers,
  one Luhn-valid 13-digit SA ID number, one e-mail address (example.org) and one HTML fragment
  (`<b>tsotsis</b>`); their `_uuid`s are in `planted.json`.
- Dirty rows: {sd["missing_location"]} missing location, {sd["swapped_coordinates"]} swapped coordinates,
  {sd["future_date"]} future incident dates (year typed as 2062), {sd["unparseable_date"]} unparseable dates,
  {sd["duplicate_submission"]} exact duplicate submissions (same `_uuid` and `_id`) appended at the end.

## interventions.geojson (SIMULATED)
{len(INTERVENTIONS)} illustrative VPUU-style interventions (Points, LineStrings, one Polygon) with `name, type,
lead, partners, status, budget_zar, financial_year, funding_sphere, start, end`; `financial_year` is the year of
`start` in the budget of `funding_sphere`: the City's July-June year for `municipal` (all but one), the Western
Cape's April-March year for the `provincial` "Mandela Park neighbourhood watch support". Line geometries follow real road centrelines (roads layer of the SJC geodatabase: NCUMO, WALTER
SISULU, JEFF MASEMOLA, LWANDLE), clipped to a sub-district and cut to a length; every attribute is invented. Two
are `stalled`; "Jeff Masemola Road safe walkway" is overdue (`in_progress`, ended 2026-06-30).

## planted.json
Machine-readable record of what was planted (hotspot, dirty-row counts, PII rows) for tests.

## sha256 of the generated files

{outputs}
"""


# --------------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------------
def _hotspot_record(precincts: gpd.GeoDataFrame, hoods: gpd.GeoDataFrame, per_month: dict[str, int]) -> dict:
    """The ``emerging_hotspot`` entry, checking the centre lies well inside Harare and HARARE HOLOMISA."""
    record = {"lat": HOTSPOT_LAT, "lon": HOTSPOT_LON, "radius_m": int(HOTSPOT_RADIUS_M), "months": list(HOTSPOT_MONTHS)}
    metric = gpd.GeoSeries([shapely.Point(HOTSPOT_LON, HOTSPOT_LAT)], crs=WGS84).to_crs(METRIC_CRS).iloc[0]
    disc = metric.buffer(HOTSPOT_RADIUS_M)
    for areas, key, label in ((precincts, "precinct_code", "Harare"), (hoods, "neighbourhood_code", "HARARE")):
        names = areas["name"].str.upper()
        area = areas[names.str.contains(label.upper())].to_crs(METRIC_CRS)
        inside = area[area.contains(disc)]
        if len(inside) != 1:
            raise ValueError(f"hotspot disc is not inside exactly one {label} area; move HOTSPOT_LAT/LON")
        record[key] = inside["code"].iloc[0]
    far = _distance_m(HOTSPOT_LAT, HOTSPOT_LON, [a.lat for a in INTERCHANGES], [a.lon for a in INTERCHANGES])
    if far.min() < 1000:
        raise ValueError(f"hotspot is {far.min():.0f} m from an interchange; it must stand apart (>= 1000 m)")
    record["crime_types"] = sorted(HOTSPOT_TYPES)
    record["incidents_per_month"] = per_month
    return record


def generate(shared: Path, out: Path) -> dict[str, str]:
    """Build every demo file from the real inputs in ``shared`` and write them to ``out``.

    Parameters
    ----------
    shared : pathlib.Path
        The ``shared/data/real`` folder.
    out : pathlib.Path
        Destination folder; created if needed. Existing files of the same names are overwritten.

    Returns
    -------
    dict
        File name to sha256 of every written file (PROVENANCE.md last).
    """
    paths = check_inputs(shared)
    seeds = np.random.SeedSequence(SEED).spawn(3)
    rng_taverns, rng_municipal, rng_survey = (np.random.default_rng(s) for s in seeds)

    precincts, precinct_repairs = read_precincts(paths["precincts"], paths["stations"])
    hoods, hood_repairs = read_neighbourhoods(paths["subdistricts"], precincts)
    roads = read_roads(paths["subdistricts"])
    mix = read_saps_mix(paths["crimestats"], precincts)
    taverns = place_taverns(rng_taverns, precincts, mix)

    texts: dict[str, str] = {}
    props = ["code", "name", "municipality", "population"]
    texts["precincts.geojson"] = geojson_text(
        [({k: _plain(row[k]) for k in props}, row.geometry) for _, row in precincts.iterrows()]
    )
    texts["neighbourhoods.geojson"] = geojson_text(
        [({k: _plain(row[k]) for k in props}, row.geometry) for _, row in hoods.iterrows()]
    )
    texts["schools.csv"], school_counts = schools_text(paths["schools"], precincts)
    texts["assets_other.csv"] = assets_text(hoods)

    municipal, municipal_info = simulate_municipal(rng_municipal, precincts, mix, taverns)
    texts["incidents_municipal.csv"] = _csv_text(municipal[list(MUNICIPAL_COLUMNS)])
    survey, survey_info = simulate_survey(rng_survey, precincts, taverns)
    texts["cso_survey_kobo.csv"] = _csv_text(survey[list(KOBO_COLUMNS)])
    texts["interventions.geojson"] = interventions_text(hoods, roads)

    planted = _planted(precincts, hoods, municipal, municipal_info, survey, survey_info)
    texts["planted.json"] = json.dumps(planted, indent=2, ensure_ascii=False) + "\n"

    out.mkdir(parents=True, exist_ok=True)
    digests = {}
    for name in FILES:
        (out / name).write_bytes(texts[name].encode("utf-8"))
        digests[name] = _sha256(out / name)
    context = {
        "sha256": digests,
        "planted": planted,
        "repairs": {"precincts": precinct_repairs, "neighbourhoods": hood_repairs},
        "schools": school_counts,
        "precinct_areas": precincts.assign(area_2015=precincts.to_crs(METRIC_CRS).area / 1e6),
        "counts": {
            "incidents_municipal": len(municipal),
            "cso_survey_kobo": len(survey),
            "outside_precincts": int((municipal["outside"] & (municipal["dirt"] == "")).sum()),
        },
    }
    (out / "PROVENANCE.md").write_bytes(provenance_text(context).encode("utf-8"))
    digests["PROVENANCE.md"] = _sha256(out / "PROVENANCE.md")
    return digests


def _plain(value: object) -> object:
    """numpy scalars to plain Python for JSON."""
    return value.item() if isinstance(value, np.generic) else value


def _planted(
    precincts: gpd.GeoDataFrame,
    hoods: gpd.GeoDataFrame,
    municipal: pd.DataFrame,
    municipal_info: dict,
    survey: pd.DataFrame,
    survey_info: dict,
) -> dict:
    """The contents of planted.json."""
    municipal_dirt = municipal["dirt"].value_counts()
    survey_dirt = survey["dirt"].value_counts()
    return {
        "emerging_hotspot": _hotspot_record(precincts, hoods, municipal_info["per_month"]),
        "incidents_municipal": {
            "rows": len(municipal),
            "dirty_rows": {k: int(municipal_dirt.get(k, 0)) for k in MUNICIPAL_DIRTY},
            "empty_descriptions": municipal_info["empty_descriptions"],
        },
        "cso_survey_kobo": {
            "rows": len(survey),
            "dirty_rows": {k: int(survey_dirt.get(k, 0)) for k in (*SURVEY_DIRTY_COUNTS, "duplicate_submission")},
            "misspelled_types": SURVEY_MISSPELLED,
            "unmatched_types": SURVEY_UNMATCHED,
            "hotspot_reports": survey_info["hotspot_reports"],
            "pii_uuids": survey_info["pii_uuids"],
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared/data/real folder")
    parser.add_argument("--out", type=Path, default=DEMO_DIR, help="output folder (default data/demo)")
    args = parser.parse_args(argv)
    digests = generate(args.shared, args.out)
    for name, digest in digests.items():
        print(f"{digest}  {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
