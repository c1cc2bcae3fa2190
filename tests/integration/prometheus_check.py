"""Reads two scrapes of a Rill app's /metrics with prometheus_client's parser (a reader that
shares no code with Rill) and checks the families, their types and labels, that the
counters moved with the traffic between the scrapes, and the client metrics from
librdkafka's statistics: with a third argument TOPIC:PARTITIONS, that the second scrape has
records-lag 0 for each of the topic's partitions (the app has caught up), and broker round
trips in seconds. Exit code 0 and "metrics: ok" when all holds; otherwise the problems, one
per line."""
import sys

from prometheus_client.parser import text_string_to_metric_families


def families(path):
    with open(path) as f:
        return {f.name: f for f in text_string_to_metric_families(f.read())}


def total(family, suffix="_total"):
    return sum(s.value for s in family.samples if s.name == family.name + suffix)


def client_problems(second, caught_up):
    """records-lag 0 on every partition of the caught-up topic; round trips in seconds."""
    problems = []
    topic, partitions = caught_up.rsplit(":", 1)
    lag = second.get("rill_consumer_fetch_manager_records_lag")
    lags = [(s.labels["partition"], s.value) for s in (lag.samples if lag else [])
            if s.labels.get("topic") == topic]
    seen = sorted(int(p) for p, _ in lags)
    if seen != list(range(int(partitions))):
        problems.append(f"records-lag of {topic} for partitions {seen}, "
                        f"expected each of 0..{int(partitions) - 1} once")
    if any(v != 0 for _, v in lags):
        problems.append(f"records-lag of {topic} is {lags} after catching up, expected 0")
    rtt = second.get("rill_consumer_node_request_latency_avg_seconds")
    for s in (rtt.samples if rtt else []):
        if not 0 < s.value < 10:
            problems.append(f"broker round trip {s.value} s for {s.labels}: not in seconds?")
    return problems


def main(first_path, second_path, caught_up=None):
    first, second = families(first_path), families(second_path)
    problems = []
    want = {
        "rill_stream_thread_process": ("counter", {"thread"}),
        "rill_stream_thread_process_rate": ("gauge", {"thread"}),
        "rill_stream_thread_process_latency_avg_seconds": ("gauge", {"thread"}),
        "rill_stream_thread_poll": ("counter", {"thread"}),
        "rill_stream_thread_commit": ("counter", {"thread"}),
        "rill_stream_thread_commit_latency_max_seconds": ("gauge", {"thread"}),
        "rill_stream_thread_blocked_time_seconds": ("counter", {"thread"}),
        "rill_stream_thread_start_time_seconds": ("gauge", {"thread"}),
        "rill_stream_task_process": ("counter", {"thread", "task"}),
        "rill_stream_task_dropped_records": ("counter", {"thread", "task"}),
        "rill_stream_task_record_lateness_max_seconds": ("gauge", {"thread", "task"}),
        "rill_stream_task_active_buffer_count": ("gauge", {"thread", "task"}),
        "rill_stream_alive_stream_threads": ("gauge", {"client"}),
        "rill_stream_state": ("gauge", {"client", "state"}),
        # Client metrics, from librdkafka's statistics.
        "rill_consumer_fetch_manager_records_lag": ("gauge", {"client", "topic", "partition"}),
        "rill_consumer_fetch_manager_records_lag_max": ("gauge", {"client"}),
        "rill_consumer_fetch_manager_records_consumed": ("counter", {"client"}),
        "rill_consumer_request": ("counter", {"client"}),
        "rill_consumer_request_latency_max_seconds": ("gauge", {"client"}),
        "rill_consumer_node_request_latency_avg_seconds": ("gauge", {"client", "node"}),
        "rill_producer_record_error": ("counter", {"client"}),
        "rill_producer_record_retry": ("counter", {"client"}),
        "rill_producer_buffer_queued_records": ("gauge", {"client"}),
        "rill_producer_buffer_available_bytes": ("gauge", {"client"}),
    }
    for name, (kind, labels) in want.items():
        f = second.get(name)
        if f is None:
            problems.append(f"no family {name}")
            continue
        if f.type != kind:
            problems.append(f"{name} is a {f.type}, not a {kind}")
        if not f.documentation:
            problems.append(f"{name} has no HELP")
        for s in f.samples:
            if set(s.labels) != labels:
                problems.append(f"{name} has labels {sorted(s.labels)}, not {sorted(labels)}")
                break
    for name in ("rill_stream_thread_process", "rill_stream_thread_poll",
                 "rill_stream_task_process"):
        if name in first and name in second and not total(second[name]) > total(first[name]):
            problems.append(f"{name} did not grow: {total(first[name])} then {total(second[name])}")
    state = second.get("rill_stream_state")
    if state and [s.labels.get("state") for s in state.samples] != ["running"]:
        problems.append(f"state is {[s.labels for s in state.samples]}")
    threads = second.get("rill_stream_alive_stream_threads")
    if threads and [s.value for s in threads.samples] != [2.0]:
        problems.append(f"alive threads {[s.value for s in threads.samples]}, expected 2")
    if caught_up:
        problems += client_problems(second, caught_up)
    for p in problems:
        print(p)
    processed = total(second.get("rill_stream_thread_process")) if "rill_stream_thread_process" in second else 0
    print(f"metrics: {len(second)} families, {processed:.0f} records processed")
    if not problems:
        print("metrics: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
