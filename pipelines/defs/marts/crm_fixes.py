"""The CRM fix-list files (group `marts`): merge pairs per CRM written from `crm_merge_suggestions`, both records
side by side with the evidence. Metadata carries file names and counts only (the files hold names and emails)."""

import dagster as dg

from pipelines.defs.resources import TouchplanResource
from pipelines.lib.crm_fixes import count_rows, write_crm_fix_files


@dg.asset(
    name="crm_merge_files",
    group_name="marts",
    deps=[dg.AssetKey("crm_merge_suggestions")],
    description="Merge files for Salesforce (MasterRecordId,DuplicateRecordId per object), HubSpot (primaryObjectId,"
    "objectIdToMerge), Zoho (MasterRecordId,DuplicateRecordId) and Dynamics 365 (TargetId,SubordinateId), each row "
    "with the evidence and both records side by side, in the output folder's crm_fixes/ "
    "(see docs/single_customer_view.md).",
)
def crm_merge_files(context: dg.AssetExecutionContext, touchplan: TouchplanResource) -> dg.MaterializeResult:
    settings = touchplan.settings()
    with touchplan.connect(read_only=True) as con:
        paths = write_crm_fix_files(con, settings.crm_fixes, as_of=settings.as_of_or_now().date())
    counts = {path.name: count_rows(path) for path in paths}
    context.log.info("CRM fix files: " + ", ".join(f"{name} ({n} pairs)" for name, n in counts.items()))
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(settings.crm_fixes)),
            "files": dg.MetadataValue.json(counts),
            "pair_count": sum(counts.values()),
        }
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[crm_merge_files])
