// Protobuf with a schema registry, for protoc-generated classes: rill::protobuf_serde<M>.
//
//   auto reg = rill::registry::connect({.url = "http://registry:8081"});
//   b.stream<std::string, shop::Order>("orders",
//                                      {.value_serde = rill::protobuf_serde<shop::Order>(reg)});
//
// Writing: Confluent's 5-byte header, the message-index list (the message's path in its
// .proto file: [0], the single byte 0, for the file's first message), then the message's
// Protobuf encoding. The schema registered (or looked up) is the .proto text of the
// message's file, as protoc's descriptor prints it, with a reference per import: each
// imported file is registered under its own name as subject ("common/money.proto"), as
// Confluent's serializer does.
//
// Reading: the writer's schema is fetched by id (and cached) and parsed; the message-index
// list must name a message of the same full name as M (otherwise the record was written as
// another message type). The payload is parsed by M's generated code, so fields M does not
// know are kept as unknown fields and fields the writer did not send read as their defaults,
// which is Protobuf's own evolution. A wrong magic byte, an unknown id, a schema that is not
// Protobuf, an index list naming another message, or a payload that does not parse throws
// rill::serde_error with the reason; the deserialization handler decides what happens next.
//
// Needs rill_registry linked (rill::registry). Thread-safe; copies share their caches.
#pragma once

#include <concepts>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include <rill/registry.hpp>
#include <rill/serde.hpp>

namespace rill {

namespace detail::protobuf {

// The compiled half of protobuf_serde (src/registry/protobuf_serde.cpp).
class core;
std::shared_ptr<core> make_core(const google::protobuf::Descriptor* d,
                                std::shared_ptr<registry::client> reg);
// Appends the header and the message-index list for a record on ctx's topic.
void write_prefix(core& c, bytes& out, const serde_context& ctx);
// Checks the header, the schema and the index list; returns where the payload starts.
std::size_t read_prefix(core& c, bytes_view in, const serde_context& ctx);
[[noreturn]] void parse_failed(const core& c, const serde_context& ctx, std::size_t size);
const registry::schema& schema_of(const core& c);

}  // namespace detail::protobuf

template <class M>
requires std::derived_from<M, google::protobuf::Message>
class protobuf_serde {
 public:
  using value_type = M;

  explicit protobuf_serde(std::shared_ptr<registry::client> reg)
      : _core(detail::protobuf::make_core(M::descriptor(), std::move(reg))) {}

  void serialize(const M& m, bytes& out, const serde_context& ctx) const {
    detail::protobuf::write_prefix(*_core, out, ctx);
    const std::size_t at = out.size();
    const std::size_t size = m.ByteSizeLong();
    out.resize(at + size);
    m.SerializeWithCachedSizesToArray(reinterpret_cast<std::uint8_t*>(out.data() + at));
  }
  M deserialize(bytes_view in, const serde_context& ctx) const {
    const std::size_t at = detail::protobuf::read_prefix(*_core, in, ctx);
    M m;
    if (!m.ParseFromArray(in.data() + at, static_cast<int>(in.size() - at)))
      detail::protobuf::parse_failed(*_core, ctx, in.size() - at);
    return m;
  }

  // The schema registered for M: its file's .proto text and references to its imports.
  const registry::schema& schema() const { return detail::protobuf::schema_of(*_core); }

 private:
  std::shared_ptr<detail::protobuf::core> _core;
};

}  // namespace rill
