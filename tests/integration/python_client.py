"""kafka-python against a running Rill app: write the input, read the output, check both.

usage: python_client.py BOOTSTRAP INPUT_TOPIC OUTPUT_TOPIC COUNT
The app upper-cases values. Also checks that the Python client's default partitioner
(murmur2, as Java's) put each key where Rill's would: the expected partitions come from
Kafka's own test vectors, computed independently here.
"""
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.partitioner.default import murmur2

bootstrap, in_topic, out_topic, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

# The partitioner Rill and Java use: Kafka's UtilsTest vectors.
assert murmur2(b"21") & 0xFFFFFFFF == (-973932308) & 0xFFFFFFFF, "python murmur2 differs from Kafka's"

producer = KafkaProducer(bootstrap_servers=bootstrap, api_version=(2, 5, 0))
futures = [producer.send(in_topic, key=f"py{i}".encode(), value=f"value {i}".encode()) for i in range(count)]
producer.flush()
for i, f in enumerate(futures):
    meta = f.get(timeout=30)
    expected = (murmur2(f"py{i}".encode()) & 0x7FFFFFFF) % 4
    if meta.partition != expected:
        print(f"py{i} went to partition {meta.partition}, expected {expected}")
        sys.exit(1)

consumer = KafkaConsumer(bootstrap_servers=bootstrap, api_version=(2, 5, 0), auto_offset_reset="earliest",
                         consumer_timeout_ms=1000)
consumer.assign([TopicPartition(out_topic, p) for p in range(4)])
seen = {}
deadline = time.time() + 60
while len(seen) < count and time.time() < deadline:
    for m in consumer:
        seen[m.key.decode()] = (m.value.decode(), m.partition)
for i in range(count):
    key = f"py{i}"
    want = (f"VALUE {i}", (murmur2(key.encode()) & 0x7FFFFFFF) % 4)
    if seen.get(key) != want:
        print(f"{key}: got {seen.get(key)}, want {want}")
        sys.exit(1)
print(f"read {count} records, all as expected")
