from guardrails.dagster.history import read_check_history

def test_scratch(history):
    for e in read_check_history(history.instance, "clean_transactions", limit=50):
        print(e.timestamp, e.status, e.run_id[:8], e.run_status, e.partition, e.passed, e.outcome and e.outcome.finished_at)
    for r in history.results.values():
        rec = history.instance.get_run_record_by_id(r.run_id)
        print(r.run_id[:8], rec.start_time, rec.create_timestamp, rec.end_time)
