// libFuzzer target for the schema-registry deserializers: every input is read as a record by
// rill::avro_serde and by rill::protobuf_serde against an in-memory registry holding
// their own schemas and a foreign Avro writer schema (unions, enum, fixed, bytes, a
// recursive record). Anything but a value or a rill::serde_error is a bug; so are leaks.
//
// Built with clang (-fsanitize=fuzzer,address,undefined) by tests/fuzz/CMakeLists.txt and run
// for a bounded time by CTest. RILL_FUZZ_WRITE_SEEDS=<dir> writes the seed corpus instead
// (tests/fuzz/corpus/registry was made so).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <shop.pb.h>
#include <rill/avro.hpp>
#include <rill/protobuf.hpp>

namespace fuzz {
struct line_item {
  std::string sku;
  std::int32_t qty = 0;
};
struct order {
  std::string id;
  double amount = 0;
  std::optional<std::string> kind;
  std::vector<line_item> items;
  std::map<std::string, std::int64_t> tags;
  std::vector<bool> flags;  // no `next`: the writer's recursive field is skipped
};
}  // namespace fuzz
BOOST_HANA_ADAPT_STRUCT(fuzz::line_item, sku, qty);
BOOST_HANA_ADAPT_STRUCT(fuzz::order, id, amount, kind, items, tags, flags);

namespace {

const char* foreign_schema =
    R"({"type":"record","name":"order","namespace":"fuzz","fields":[)"
    R"({"name":"id","type":["null","string","bytes"]},{"name":"amount","type":"float"},)"
    R"({"name":"kind","type":{"type":"enum","name":"k","symbols":["A","B","C"]}},)"
    R"({"name":"items","type":{"type":"array","items":{"type":"record","name":"line_item",)"
    R"("fields":[{"name":"sku","type":{"type":"fixed","name":"f4","size":4}},)"
    R"({"name":"qty","type":"long"}]}}},)"
    R"({"name":"tags","type":{"type":"map","values":["null","int"]}},)"
    R"({"name":"flags","type":{"type":"array","items":"boolean"}},)"
    R"({"name":"next","type":["null","fuzz.order"]}]})";

struct state {
  std::shared_ptr<rill::registry::client> reg = rill::registry::in_memory({.auto_register = true});
  rill::avro_serde<fuzz::order> avro{reg};
  rill::protobuf_serde<rill::test::Order> protobuf{reg};
  std::vector<rill::bytes> seeds;

  state() {
    google::protobuf::SetLogHandler(nullptr);  // invalid UTF-8 is logged otherwise
    const rill::serde_context ctx{.topic = "fuzz"};
    fuzz::order o{"o1", 2.5, "B", {{"tea", 2}, {"cup", -1}}, {{"a", 1}}, {true, false}};
    avro.serialize(o, seeds.emplace_back(), ctx);
    rill::test::Order p;
    p.set_id("o1");
    p.mutable_total()->set_units(250);
    p.add_lines()->set_sku("tea");
    protobuf.serialize(p, seeds.emplace_back(), ctx);
    const int foreign = reg->register_schema("foreign", {"AVRO", foreign_schema, {}});
    // id: branch 1 (string) "x"; amount 1.0f; kind B; one item ("abcd", 3); tags {"t": 5};
    // flags [true]; next: branch 1, a nested order with null id, 0.0f, A, [], {}, [], null.
    rill::bytes& b = seeds.emplace_back();
    rill::registry::wire::write_header(b, foreign);
    const unsigned char body[] = {2,   2, 'x', 0, 0, 0x80, 0x3f, 2,  2, 'a', 'b', 'c',
                                  'd', 6, 0,   2, 2, 't',  2,    10, 0, 2,   1,   0,
                                  2,   0, 0,   0, 0, 0,    0,    0,  0, 0,   0};
    for (unsigned char c : body) b.push_back(std::byte{c});
  }
};

state& global() {
  static state s;
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  state& s = global();
  if (const char* dir = std::getenv("RILL_FUZZ_WRITE_SEEDS")) {
    for (std::size_t i = 0; i < s.seeds.size(); ++i) {
      std::ofstream(std::string(dir) + "/seed-" + std::to_string(i), std::ios::binary)
          .write(reinterpret_cast<const char*>(s.seeds[i].data()),
                 static_cast<std::streamsize>(s.seeds[i].size()));
    }
    try {  // every seed is a record its reader takes
      const rill::serde_context ctx{.topic = "fuzz"};
      (void)s.avro.deserialize(s.seeds[0], ctx);
      (void)s.protobuf.deserialize(s.seeds[1], ctx);
      const fuzz::order foreign = s.avro.deserialize(s.seeds[2], ctx);
      if (foreign.kind != "B" || foreign.items.at(0).sku != "abcd" || foreign.tags.at("t") != 5)
        throw rill::serde_error("the foreign seed reads wrong");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "a seed does not read: %s\n", e.what());
      std::exit(1);
    }
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  state& s = global();
  const rill::bytes_view in(reinterpret_cast<const std::byte*>(data), size);
  const rill::serde_context ctx{.topic = "fuzz"};
  try {
    (void)s.avro.deserialize(in, ctx);
  } catch (const rill::serde_error&) {
  }
  try {
    (void)s.protobuf.deserialize(in, ctx);
  } catch (const rill::serde_error&) {
  }
  return 0;
}
