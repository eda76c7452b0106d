"""Column names used by the hotspot analytics, taken from :mod:`pipelines.schemas`.

Looking each name up through ``Table.field`` means a renamed column in the schema fails here, at
import, instead of silently producing empty results further down. Columns that the analytics add
(``cell_id``, ``count``, the Gi* fields) are defined here once, because they are this package's
output contract.
"""

from __future__ import annotations

from pipelines.schemas import AREAS, ASSETS, INCIDENTS, INTERVENTIONS
from pipelines.schemas import LAT as LAT
from pipelines.schemas import LON as LON

# Incidents
INCIDENT_ID = INCIDENTS.field("incident_id").name
SOURCE = INCIDENTS.field("source").name
OCCURRED_AT = INCIDENTS.field("occurred_at").name
CATEGORY = INCIDENTS.field("category").name
PRECINCT_CODE = INCIDENTS.field("precinct_code").name
NEIGHBOURHOOD_CODE = INCIDENTS.field("neighbourhood_code").name

# Areas
AREA_CODE = AREAS.field("code").name
AREA_NAME = AREAS.field("name").name
AREA_KIND = AREAS.field("kind").name
POPULATION = AREAS.field("population").name

# Assets
ASSET_ID = ASSETS.field("asset_id").name
ASSET_NAME = ASSETS.field("name").name
ABCD_CATEGORY = ASSETS.field("abcd_category").name
ASSET_TYPE = ASSETS.field("type").name
CUSTODIAN = ASSETS.field("custodian").name

# Interventions
INTERVENTION_ID = INTERVENTIONS.field("intervention_id").name
INTERVENTION_NAME = INTERVENTIONS.field("name").name
INTERVENTION_TYPE = INTERVENTIONS.field("type").name
STATUS = INTERVENTIONS.field("status").name
START = INTERVENTIONS.field("start").name

# Added by this package
CELL_ID = "cell_id"
COUNT = "count"
GI_Z = "gi_z"
GI_P = "gi_p"
GI_BIN = "gi_bin"
EMERGING = "emerging"
HOTSPOT_CLASS = "hotspot_class"  # one of pipelines.hotspots.emerging.HOTSPOT_CLASSES
