// The fault injector (cluster.hpp): where faults strike, drawn from the seed.
#include <algorithm>

#include <fmt/format.h>

#include "src/sim/cluster.hpp"

namespace rill::sim {

const char* to_string(point p) {
  switch (p) {
    case point::produce:
      return "produce";
    case point::send_offsets:
      return "send_offsets";
    case point::commit_transaction:
      return "commit_transaction";
    case point::abort_transaction:
      return "abort_transaction";
    case point::commit_offsets:
      return "commit_offsets";
    case point::poll:
      return "poll";
    case point::init_transactions:
      return "init_transactions";
    case point::begin_transaction:
      return "begin_transaction";
    case point::committed_offsets:
      return "committed_offsets";
    case point::end_offsets:
      return "end_offsets";
    case point::state_commit:
      return "state_commit";
    case point::between_state_commits:
      return "between_state_commits";
    case point::cache_flush:
      return "cache_flush";
  }
  return "?";
}

namespace {

// The runtime's own points: a hook cannot fail, it can only crash.
bool runtime_point(point p) {
  return p == point::state_commit || p == point::between_state_commits || p == point::cache_flush;
}

// Calls made about once per commit, producer or task start, not per record or poll: a seed
// makes a handful to a few dozen of them (the fault mix keeps the group rebalancing much of
// the time), so their probabilities are ten times the others', or a shard of seeds would
// seldom crash there.
double weight(point p) {
  switch (p) {
    case point::produce:
    case point::poll:
      return 1;
    case point::commit_offsets:     // at-least-once: a produce failure rewinds, so few commits
    case point::abort_transaction:  // made only after a failure: a few dozen a shard
      return 25;
    default:
      return 10;
  }
}

const char* name(fault_injector::verdict v) {
  using enum fault_injector::verdict;
  switch (v) {
    case crash_before:
      return "crash before";
    case crash_after:
      return "crash after";
    case lose_answer:
      return "lose the answer of";
    case stall:
      return "stall";
    case late:
      return "hold back";
    default:
      return "fail";
  }
}

// A failure drawn at a point with ambiguous outcomes is one of them in a share of cases:
// a commit_transaction's is a plain failure, a lost answer or a stall, a third each; a
// produce's a plain failure, a lost answer or a late append, a third each.
fault_injector::verdict ambiguous(point p, double roll) {
  using enum fault_injector::verdict;
  if (p == point::commit_transaction)
    return roll < 1.0 / 3 ? fail : roll < 2.0 / 3 ? lose_answer : stall;
  if (p == point::produce) return roll < 1.0 / 3 ? fail : roll < 2.0 / 3 ? lose_answer : late;
  return fail;
}

}  // namespace

void fault_injector::force(point p, std::vector<verdict> next) {
  std::lock_guard lock(_mutex);
  auto& forced = _forced[static_cast<std::size_t>(p)];
  forced.insert(forced.end(), next.begin(), next.end());
}

fault_injector::verdict fault_injector::decide(point p, const std::string& who) {
  std::lock_guard lock(_mutex);
  auto& forced = _forced[static_cast<std::size_t>(p)];
  if (!_enabled && forced.empty()) return verdict::none;
  auto& t = _fired[static_cast<std::size_t>(p)];
  ++t.calls;
  if (!forced.empty()) {
    const verdict v = forced.front();
    forced.pop_front();
    return record(p, v, who);
  }
  if (!_settings.only.empty() &&
      std::find(_settings.only.begin(), _settings.only.end(), p) == _settings.only.end())
    return verdict::none;
  std::uniform_real_distribution<double> u(0, 1);
  const double roll = u(_rng);
  const double crash = _settings.crash * weight(p);
  // A commit_transaction failure is a lost answer or a stall two times in three, each of
  // which every full shard must show: failures there weigh four times its crashes.
  const double fail = runtime_point(p)                 ? 0
                      : p == point::commit_transaction ? _settings.fail * weight(p) * 4
                                                       : _settings.fail * weight(p);
  verdict v = verdict::none;
  if (roll < crash / 2)
    v = verdict::crash_before;
  else if (roll < crash)
    v = verdict::crash_after;
  else if (roll < crash + fail)
    v = ambiguous(p, u(_rng));
  return record(p, v, who);
}

fault_injector::verdict fault_injector::record(point p, verdict v, const std::string& who) {
  if (v == verdict::none) return v;
  auto& t = _fired[static_cast<std::size_t>(p)];
  const bool crashed = v == verdict::crash_before || v == verdict::crash_after;
  ++(crashed ? t.crashes : t.failures);
  t.lost_answers += v == verdict::lose_answer ? 1 : 0;
  t.stalls += v == verdict::stall ? 1 : 0;
  t.late += v == verdict::late ? 1 : 0;
  _schedule.push_back(fmt::format("{} {} {}", who, name(v), to_string(p)));
  return v;
}

}  // namespace rill::sim
