"""Duplicate check (查重): normalisation and matching, revealing only what the actor may see."""

from __future__ import annotations

import pytest

from services.db import session_scope
from services.dedupe import (
    credit_code_check_char,
    find_duplicates,
    normalize_email,
    normalize_name,
    normalize_phone,
)
from services.models import Customer


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("华为技术有限公司", "华为技术"),
        ("华为技术股份有限公司", "华为技术有限公司"),
        ("华为技术有限责任公司", "华为技术集团"),
        ("ACME Co., Ltd.", "acme"),
        ("ACME Co. Ltd", "Acme Limited"),
        ("Ａｃｍｅ　Ｃｏ．，Ｌｔｄ．", "ACME Co., Ltd."),
        ("Acme Inc.", "ACME LLC"),
        ("Acme Corporation", "Acme Corp."),
        ("Müller GmbH", "MÜLLER"),
        ("  Big   Data  Ltd ", "bigdata"),
        ("华为（深圳）有限公司", "华为(深圳)公司"),
        ("ＡＢＣ科技有限公司", "abc科技"),
    ],
)
def test_name_variants_normalise_equal(a, b):
    assert normalize_name(a) == normalize_name(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Zinc", "Z"),  # suffix words only as whole trailing tokens
        ("华为（上海）有限公司", "华为有限公司"),  # different legal entities
        ("Acme", "Acne"),
        ("北京分公司", "北京公司"),
    ],
)
def test_different_names_stay_different(a, b):
    assert normalize_name(a) != normalize_name(b)


def test_normalize_name_never_empties_and_survives_odd_input():
    assert normalize_name("Ltd") == "ltd"
    assert normalize_name("公司") == "公司"
    assert normalize_name(None) == "" and normalize_name(float("nan")) == ""
    assert normalize_name(12345) == "12345"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("+86 138 1234 5678", "13812345678"),
        ("0086-138-1234-5678", "138 1234 5678"),
        ("8613812345678", "(138)1234-5678"),
        ("+86 10 1234 5678", "010-12345678"),
        ("０２１－５５５５１２３４", "021 5555 1234"),
    ],
)
def test_phone_variants_normalise_equal(a, b):
    assert normalize_phone(a) == normalize_phone(b)


def test_phone_and_email_edge_cases():
    assert normalize_phone("no digits") is None and normalize_phone(None) is None
    assert normalize_email("  Sales@Example.COM ") == "sales@example.com"
    assert normalize_email("") is None


def test_credit_code_check_character():
    assert credit_code_check_char("91350100M000100Y4") == "3"


def _add(engine, owner_id, name, **kw):
    from services.customers import _norm_columns

    with session_scope(engine) as s:
        c = Customer(name=name, owner_id=owner_id, **kw, **_norm_columns({"name": name, **kw}))
        s.add(c)
        s.flush()
        return c.id


def test_find_duplicates_reveals_only_what_the_actor_may_see(engine, org):
    own = _add(engine, org.rep_n1.id, "Acme Co., Ltd.", phone="13800000001")
    _add(engine, org.rep_s1.id, "上海华为技术有限公司", email="sales@huawei.example", phone="13900000002")
    pool = _add(engine, None, "Pool Corp", credit_code="91350100M000100Y43")
    with session_scope(engine) as s:
        # own customer: full details
        m = find_duplicates(s, org.rep_n1, name="ＡＣＭＥ　Ｌｉｍｉｔｅｄ")
        assert m == [{"customer_id": own, "name": "Acme Co., Ltd.", "owner_id": org.rep_n1.id,
                      "owner_name": "Rep_N1", "matched_on": ["name"], "archived": False, "hidden": False}]
        # another rep's customer: only owner name and matched fields
        m = find_duplicates(s, org.rep_n1, name="上海华为技术股份有限公司", email="SALES@huawei.example",
                            phone="+86 139 0000 0002")
        assert len(m) == 1 and m[0]["hidden"] and m[0]["customer_id"] is None and m[0]["name"] is None
        assert m[0]["owner_name"] == "Rep_S1" and sorted(m[0]["matched_on"]) == ["email", "name", "phone"]
        # the director sees everything
        m = find_duplicates(s, org.director, email="sales@huawei.example")
        assert m[0]["name"] == "上海华为技术有限公司" and not m[0]["hidden"]
        # pool customers are visible to reps (no owner)
        m = find_duplicates(s, org.rep_n2, credit_code="91350100m000100y43")
        assert m[0]["customer_id"] == pool and m[0]["owner_name"] is None
        # exclude_id skips the row being edited; nothing given → nothing found
        assert find_duplicates(s, org.rep_n1, name="acme", exclude_id=own) == []
        assert find_duplicates(s, org.rep_n1) == []
