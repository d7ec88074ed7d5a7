"""The core: one organisations table and everything that reads, checks and writes it.

`System` is a frozen, validated table of members (£, sign: surplus +, deficit −) and the system
control total; `schema` describes every column once (unit, default, bounds); `money` keeps sums
exact in whole pennies; `io`/`write` read and write folders, CSV, TOML and workbooks; `sources`
holds the file rule (a bundled name, inline text, or a path the caller gave — names inside a file
are never paths); `errors` is every error the public API raises; `constants` the half penny,
tolerances and the named choices (StrEnums). Nothing here imports a higher layer.
"""

from riskshare.core.basis import basis_weights
from riskshare.core.constants import HALF_PENNY, PENNY
from riskshare.core.errors import Problem, RiskshareError, ValidationError
from riskshare.core.io import load_bytes, load_system
from riskshare.core.samples import list_samples, load_sample
from riskshare.core.schema import KINDS, ORG_COLUMNS
from riskshare.core.system import System
from riskshare.core.write import excel_bytes, template_workbook, write_excel, write_folder

__all__ = ["System", "load_system", "load_bytes", "load_sample", "list_samples", "write_folder",
           "write_excel", "excel_bytes", "template_workbook", "ORG_COLUMNS", "KINDS",
           "basis_weights", "PENNY", "HALF_PENNY", "RiskshareError", "ValidationError",
           "Problem"]
