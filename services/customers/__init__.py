"""Customers (客户关系管理): validation, the grid's page query, saving grid edits with
optimistic locking, bulk actions and the public pool (公海).

One module per concept: ``rules`` (field checks, column normalisation, the one insert path),
``grid`` (the SQL page query and pick lists), ``writing`` (saves with optimistic locking),
``pool`` (bulk actions, claim and reclaim).

Rules in one place:
- Every read goes through ``access.customer_filter``; private contact details (phone,
  email, address, notes) of a pool customer are hidden from a rep until they claim it.
- A save validates every row first, then checks access, then versions, then duplicates;
  any failure raises before anything is written (the caller's transaction is one unit).
- Every write bumps ``version`` and writes an audit row.
"""

from services.customers.grid import (
    NOT_NULL_SORTS,
    PAGE_COLUMNS,
    SORTABLE,
    CustomerFilter,
    assignable_owners,
    distinct_values,
    get_customer,
    list_channels,
    list_customers_page,
)
from services.customers.pool import (
    JUST_CLAIMED,
    archive_customers,
    claim_from_pool,
    reassign_owner,
    reclaim_stale_customers,
    release_to_pool,
    restore_customers,
    stale_customers,
)
from services.customers.rules import (
    DEDUPE_FIELDS,
    EDITABLE_FIELDS,
    MAX_EXTERNAL_ID,
    MAX_PAGE_SIZE,
    PRIVATE_FIELDS,
    _norm_columns,
    as_int,
    insert_customers,
    norm_columns,
    valid_credit_code,
    validate_customer_fields,
)
from services.customers.writing import (
    GridChanges,
    SaveResult,
    create_customer,
    update_customer,
    update_many,
)

__all__ = [
    "CustomerFilter",
    "DEDUPE_FIELDS",
    "EDITABLE_FIELDS",
    "GridChanges",
    "JUST_CLAIMED",
    "MAX_EXTERNAL_ID",
    "MAX_PAGE_SIZE",
    "NOT_NULL_SORTS",
    "PAGE_COLUMNS",
    "PRIVATE_FIELDS",
    "SORTABLE",
    "SaveResult",
    "_norm_columns",
    "archive_customers",
    "as_int",
    "assignable_owners",
    "claim_from_pool",
    "create_customer",
    "distinct_values",
    "get_customer",
    "insert_customers",
    "list_channels",
    "list_customers_page",
    "norm_columns",
    "reassign_owner",
    "reclaim_stale_customers",
    "stale_customers",
    "release_to_pool",
    "restore_customers",
    "update_customer",
    "update_many",
    "valid_credit_code",
    "validate_customer_fields",
]
