from services.access import visible_user_ids
from services.db import session_scope


def test_visible_users_per_role(engine, org):
    with session_scope(engine) as s:
        assert visible_user_ids(s, org.admin) is None
        assert visible_user_ids(s, org.director) is None
        assert visible_user_ids(s, org.rep_n1) == {org.rep_n1.id}
        assert visible_user_ids(s, org.manager_n) == {org.manager_n.id, org.rep_n1.id, org.rep_n2.id}
        assert org.rep_s1.id not in visible_user_ids(s, org.manager_n)


def test_who_sees_what_is_read_once_per_read_but_afresh_in_a_write(engine, org):
    """A read transaction asks the database who a manager sees once, however many services
    ask; a write transaction that moves a rep between teams sees the move at once."""
    from sqlalchemy import event, update

    from services.db import read_scope
    from services.models import User

    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        with read_scope(engine) as s:
            first = visible_user_ids(s, org.manager_n)
            n = len(statements)
            first.add(-1)  # a caller's change to its copy is not remembered
            assert visible_user_ids(s, org.manager_n) == {org.manager_n.id, org.rep_n1.id, org.rep_n2.id}
            assert len(statements) == n
    finally:
        event.remove(engine, "before_cursor_execute", count)
    with session_scope(engine) as s:
        assert org.rep_s1.id not in visible_user_ids(s, org.manager_n)
        s.execute(update(User).where(User.id == org.rep_s1.id).values(team_id=org.team_n))
        assert org.rep_s1.id in visible_user_ids(s, org.manager_n)
        s.rollback()
