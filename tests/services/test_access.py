from services.access import visible_user_ids
from services.db import session_scope


def test_visible_users_per_role(engine, org):
    with session_scope(engine) as s:
        assert visible_user_ids(s, org.admin) is None
        assert visible_user_ids(s, org.director) is None
        assert visible_user_ids(s, org.rep_n1) == {org.rep_n1.id}
        assert visible_user_ids(s, org.manager_n) == {org.manager_n.id, org.rep_n1.id, org.rep_n2.id}
        assert org.rep_s1.id not in visible_user_ids(s, org.manager_n)
