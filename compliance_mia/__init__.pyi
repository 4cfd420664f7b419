from compliance_mia.api import Assessment as Assessment
from compliance_mia.api import Policy as Policy
from compliance_mia.api import assess as assess
from compliance_mia.api import check_policy as check_policy
from compliance_mia.api import load_policy as load_policy
from compliance_mia.api import run as run
from compliance_mia.errors import ComplianceMiaError as ComplianceMiaError

__version__: str
__all__: list[str]
