// W4's baseline: the bank's command processing by hand, on the librdkafka C API and RocksDB,
// doing the work of bank::topology (examples/bank/bank.hpp) on topics of its own:
//
//   commands + credit/refund legs --(the account processor's steps: bank::decide,
//   bank::answer_event)--> events, and legs back through a feedback topic;
//   events --(balance per account)--> balances.
//
// One group member reads the commands, the feedback topic and the events, in batches, as
// Rill's one stream thread does. Each record's value goes through the JSON serde Rill uses
// (rill::default_serde), so that W4 compares runtimes, not JSON code. State as W3's
// baseline keeps it: per partition a RocksDB of accounts and one of balances (as Rill has a
// task per partition of each subtopology), WAL off, changed values in maps that reads go
// through first, every change sent to a changelog topic; every commit interval the producer
// is flushed, each map goes down as one WriteBatch and the offsets are committed
// synchronously.
#include <array>

#include "w4_bank.hpp"

namespace bench::w4_bank {

namespace {

struct queue_deleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
using queue_ptr = std::unique_ptr<rd_kafka_queue_t, queue_deleter>;

// The accounts of one partition: a changed account waits here, decoded and encoded, until
// the commit writes it to RocksDB.
struct accounts_state {
  struct pending_account {
    bank::account account;
    rill::bytes encoded;
  };
  std::unique_ptr<rocksdb::DB> db;
  std::unordered_map<std::string, pending_account> pending;
};

// The loop. Runs on one thread from run() until `stop`; opens its stores once assigned.
class bank_loop {
 public:
  bank_loop(const params& p, const bank::topics& t, const std::string& prefix)
      : _p(p),
        _inputs{t.commands(), prefix + "credits-feedback", t.events()},
        _events(t.events()),
        _balances_topic(t.balances()),
        _accounts_changelog(prefix + "accounts-changelog"),
        _balances_changelog(prefix + "balances-changelog"),
        _group(prefix + "bank"),
        _root(scratch_dir() + "/" + _group) {
    for (const auto& topic : {_inputs[1], _accounts_changelog, _balances_changelog})
      create_topic(topic, p.partitions);
  }

  void run(const std::atomic<bool>& stop) {
    rk_ptr c = group_consumer(_p, _group, std::vector<std::string>(_inputs.begin(), _inputs.end()),
                              assigned_at);
    _producer = make_producer();
    const queue_ptr queue(rd_kafka_queue_get_consumer(c.get()));
    rd_kafka_queue_t* q = queue.get();
    std::vector<rd_kafka_message_t*> batch(1000);
    auto last_commit = clock::now();
    ssize_t n = 0;
    starving_guard guard(_p.wake);
    while (!stop.load()) {
      guard.before_batch(c.get(), q);
      n = rd_kafka_consume_batch_queue(q, n > 0 ? 0 : 5, batch.data(), batch.size());
      guard.after_batch(batch.data(), n);
      // Timed, as Rill's tasks open their stores after the assignment too.
      if (_accounts.empty() && (n > 0 || assigned_at.load() != 0)) open_states();
      std::string error;  // thrown once every message of the batch is destroyed
      for (ssize_t i = 0; i < n; ++i) {
        rd_kafka_message_t* m = batch[static_cast<std::size_t>(i)];
        try {
          if (!m->err && error.empty()) record(*m);
        } catch (const std::exception& e) {
          error = e.what();
        }
        rd_kafka_message_destroy(m);
      }
      if (!error.empty()) throw std::runtime_error(error);
      rd_kafka_poll(_producer.get(), 0);
      if (clock::now() - last_commit >= std::chrono::milliseconds(_p.commit_ms)) {
        commit(c.get());
        last_commit = clock::now();
      }
    }
    commit(c.get());
    rd_kafka_consumer_close(c.get());
  }

  std::atomic<std::int64_t> assigned_at{0};

 private:
  void open_states() {
    for (auto& st : open_count_states(_root + "/accounts", _p.partitions)) {
      _accounts.push_back(std::make_unique<accounts_state>());
      _accounts.back()->db = std::move(st->db);
    }
    _balances = open_count_states(_root + "/balances", _p.partitions);
  }

  void record(const rd_kafka_message_t& m) {
    const std::string_view topic = rd_kafka_topic_name(m.rkt);
    const int input = topic == _inputs[0] ? 0 : topic == _inputs[1] ? 1 : 2;
    _positions[{input, m.partition}] = m.offset + 1;
    const rill::bytes_view value(static_cast<const std::byte*>(m.payload), m.len);
    const std::int64_t ts = std::max<std::int64_t>(0, rd_kafka_message_timestamp(&m, nullptr));
    if (input == 2) {
      balance(m, _event_serde.decode(&value, {topic, false, nullptr}), ts);
    } else {
      answer(m.partition, _command_serde.decode(&value, {topic, false, nullptr}), ts);
    }
  }

  // As bank::account_processor: bank::respond on the account, read from the pending map or
  // RocksDB; a changed account goes to the changelog and waits for the commit's batch.
  void answer(std::int32_t partition, const bank::command& c, std::int64_t ts) {
    accounts_state& st = *_accounts[static_cast<std::size_t>(partition)];
    auto it = st.pending.find(c.account);
    bank::account loaded;
    if (it == st.pending.end()) {
      std::string v;
      if (st.db->Get(rocksdb::ReadOptions(), c.account, &v).ok()) {
        const rill::bytes_view bytes = rill::as_bytes(v);
        loaded = _account_serde.decode(&bytes, {_accounts_changelog, false, nullptr});
      }
    }
    bank::account& a = it == st.pending.end() ? loaded : it->second.account;
    const bank::outcome o = bank::respond(c, a);
    if (o.what == bank::outcome::ignored) return;
    if (o.what == bank::outcome::decided) {
      _account_serde.encode(a, _buf, {_accounts_changelog, false, nullptr});
      produce(_producer.get(), _accounts_changelog, partition, c.account.data(), c.account.size(),
              _buf.data(), _buf.size(), ts);
      if (it == st.pending.end())
        st.pending.emplace(c.account, accounts_state::pending_account{std::move(loaded), _buf});
      else
        it->second.encoded = _buf;
    }
    auto [key, e] = bank::answer_event(c, o.v, o.version);
    send(key, e, ts);
  }

  // The topology's second legs (to the feedback topic) and public events.
  void send(const std::string& key, const bank::event& e, std::int64_t ts) {
    if (e.type == "transfer_debited")
      send_leg({e.command_id, "credit", e.counterparty, e.account, e.amount, e.version}, ts);
    if (e.type == "refund_requested") {
      send_leg({e.command_id, "refund", e.account, e.counterparty, e.amount, e.version}, ts);
      return;
    }
    _event_serde.encode(e, _buf, {_events, false, nullptr});
    produce(_producer.get(), _events, RD_KAFKA_PARTITION_UA, key.data(), key.size(), _buf.data(),
            _buf.size(), ts);
  }
  void send_leg(const bank::command& leg, std::int64_t ts) {
    _command_serde.encode(leg, _buf, {_inputs[1], false, nullptr});
    produce(_producer.get(), _inputs[1], RD_KAFKA_PARTITION_UA, leg.account.data(),
            leg.account.size(), _buf.data(), _buf.size(), ts);
  }

  // The read side: the balance of the event's account, changed by every event not rejected.
  void balance(const rd_kafka_message_t& m, const bank::event& e, std::int64_t ts) {
    if (e.type == "rejected") return;
    count_state& st = *_balances[static_cast<std::size_t>(m.partition)];
    std::string key(static_cast<const char*>(m.key), m.key_len);
    std::int64_t balance = 0;
    if (auto it = st.pending.find(key); it != st.pending.end()) {
      balance = it->second;
    } else if (std::string v; st.db->Get(rocksdb::ReadOptions(), key, &v).ok() && v.size() == 8) {
      balance = from_be64(v.data());
    }
    balance += bank::balance_change(e);
    const std::string bytes = be64(balance);
    produce(_producer.get(), _balances_changelog, m.partition, key.data(), key.size(), bytes.data(),
            bytes.size(), ts);
    produce(_producer.get(), _balances_topic, RD_KAFKA_PARTITION_UA, key.data(), key.size(),
            bytes.data(), bytes.size(), ts);
    st.pending.insert_or_assign(std::move(key), balance);
  }

  // Flush the producer (changelogs and outputs out), write the stores, commit the offsets.
  void commit(rd_kafka_t* consumer) {
    flush(_producer.get());
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;
    for (auto& st : _accounts) {
      if (st->pending.empty()) continue;
      rocksdb::WriteBatch batch;
      for (const auto& [k, a] : st->pending)
        batch.Put(
            k, rocksdb::Slice(reinterpret_cast<const char*>(a.encoded.data()), a.encoded.size()));
      check_write(st->db->Write(wo, &batch));
      st->pending.clear();
    }
    write_pending_counts(_balances);
    if (_positions.empty()) return;
    rd_kafka_topic_partition_list_t* offs =
        rd_kafka_topic_partition_list_new(static_cast<int>(_positions.size()));
    for (auto [at, off] : _positions)
      rd_kafka_topic_partition_list_add(offs, _inputs[static_cast<std::size_t>(at.first)].c_str(),
                                        at.second)
          ->offset = off;
    const rd_kafka_resp_err_t err = rd_kafka_commit(consumer, offs, 0);
    rd_kafka_topic_partition_list_destroy(offs);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error(std::string("commit: ") + rd_kafka_err2str(err));
  }

  static void check_write(const rocksdb::Status& s) {
    if (!s.ok()) throw std::runtime_error("RocksDB write: " + s.ToString());
  }

  const params& _p;
  const std::array<std::string, 3> _inputs;  // commands, feedback (legs), events
  const std::string _events, _balances_topic, _accounts_changelog, _balances_changelog, _group,
      _root;
  rk_ptr _producer;
  std::vector<std::unique_ptr<accounts_state>> _accounts;
  std::vector<std::unique_ptr<count_state>> _balances;
  std::map<std::pair<int, std::int32_t>, std::int64_t> _positions;  // (input, partition)
  rill::any_serde<bank::command> _command_serde = rill::default_serde<bank::command>();
  rill::any_serde<bank::event> _event_serde = rill::default_serde<bank::event>();
  rill::any_serde<bank::account> _account_serde = rill::default_serde<bank::account>();
  rill::bytes _buf;
};

}  // namespace

side baseline_once(const params& p, const std::vector<bank::command>& commands) {
  const std::string prefix = fmt::format("bench{}-base-", run_counter());
  const bank::topics topics = preload(prefix, p.partitions, commands);
  bank_loop loop(p, topics, prefix);
  std::atomic<bool> stop{false}, failed{false};
  std::string failure;
  const double rss0 = reset_peak_rss();
  const double cpu0 = process_cpu_s();
  std::thread t([&] {
    try {
      loop.run(stop);
    } catch (const std::exception& e) {
      failure = e.what();
      failed = true;
    }
  });
  const answered done = await_answers(commands, topics, [&] { return failed.load(); });
  side s;
  s.cpu_s = process_cpu_s() - cpu0;
  stop = true;
  t.join();
  s.seconds = static_cast<double>(done.at - loop.assigned_at.load()) / 1e9;
  s.records_per_s = static_cast<double>(commands.size()) / s.seconds;
  s.peak_rss_mb = status_mb("VmHWM:");
  s.rss_growth_mb = s.peak_rss_mb - rss0;
  if (!failure.empty())
    s.failure = failure;
  else
    s.failure = done.failure();
  return s;
}

}  // namespace bench::w4_bank
