from datakits.pagila_bronze import Actor


def test_actors_are_isolated(datakit_session):
    lineage = {"dk_batch_id": "b1", "dk_source_table": "actor", "dk_record_hash": "0" * 64}
    datakit_session.add(Actor(actor_id=1, first_name="A", last_name="B", **lineage))
    datakit_session.commit()  # allowed: the test's outer transaction is rolled back after it
    assert datakit_session.get(Actor, {"actor_id": 1, "dk_batch_id": "b1"}) is not None
