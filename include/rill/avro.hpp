// Avro with a schema registry, for Boost.Hana structs: rill::avro_serde<T>.
//
//   struct order { std::string id; double amount = 0; std::optional<std::string> coupon; };
//   BOOST_HANA_ADAPT_STRUCT(order, id, amount, coupon);
//   auto reg = rill::registry::connect({.url = "http://registry:8081"});
//   b.stream<std::string, order>("orders", rill::consumed(rill::avro_serde<order>(reg)));
//
// The schema is derived from T by reflection, as the JSON serde's is: a record named after
// T's C++ name (shop::order -> "shop.order"; the constructor takes another name); bool -> boolean;
// integers up to 32 bits but uint32 -> int; int64, uint32, uint64 -> long; float, double,
// std::string; std::optional<X> -> ["null", X] with default null; std::vector<X> -> array;
// std::map<std::string, X> -> map; nested structs -> records. Every field has a default:
// its value in T{} (nested and element records: zero values), so later versions of T evolve
// compatibly when new members have initializers.
//
// Writing: the record in Avro's binary encoding after Confluent's 5-byte header. The schema id
// comes from the registry: looked up under the subject (registry::settings' strategy), or
// registered when settings.auto_register is on, or the subject's latest with
// use_latest_version.
//
// Reading: the writer's schema is fetched by the id in the record (and cached), parsed by the
// Avro C library and resolved against T by field name, as Avro's schema resolution does:
// fields T lacks are skipped, fields the writer lacks keep their value in T{} (the reader
// schema's default), int widens to long, float and double, long to float and double, and
// string and bytes read into each other. A record that does not resolve (a wrong magic byte,
// an unknown id, a schema that is not Avro, a type that does not resolve, bytes that end
// early or run over) throws rill::serde_error with the reason; the deserialization handler
// decides what happens next.
//
// Needs rill_registry linked (rill::registry). Thread-safe; copies share their caches.
#pragma once

#include <memory>
#include <string>

#include <rill/json.hpp>
#include <rill/registry.hpp>
#include <rill/serde.hpp>

namespace rill {

namespace detail::avro {

// The compiled half of avro_serde (src/registry/avro_serde.cpp): the schema, the subject and
// writer-schema caches, the codec.
class core;
std::shared_ptr<core> make_core(const json::type_info& t, std::string defaults_json,
                                std::shared_ptr<registry::client> reg, std::string record_name);
void serialize(core& c, const void* v, bytes& out, const serde_context& ctx);
void deserialize(core& c, void* v, bytes_view in, const serde_context& ctx);
const std::string& schema_text(const core& c);
const std::string& full_name(const core& c);

}  // namespace detail::avro

template <hana_struct T>
class avro_serde {
 public:
  using value_type = T;

  // record_name: the Avro full name of T's record ("shop.order"), for when other services
  // know the record by another name than T's C++ name (Avro resolves records by name).
  explicit avro_serde(std::shared_ptr<registry::client> reg, std::string record_name = {})
      : _core(detail::avro::make_core(detail::json::info_v<T>, defaults(), std::move(reg),
                                      std::move(record_name))) {}

  void serialize(const T& v, bytes& out, const serde_context& ctx) const {
    detail::avro::serialize(*_core, std::addressof(v), out, ctx);
  }
  T deserialize(bytes_view in, const serde_context& ctx) const {
    T v{};
    detail::avro::deserialize(*_core, std::addressof(v), in, ctx);
    return v;
  }

  // The Avro schema (JSON) registered for T, and its full name ("shop.order").
  const std::string& schema() const { return detail::avro::schema_text(*_core); }
  const std::string& record_name() const { return detail::avro::full_name(*_core); }

 private:
  static std::string defaults() {
    const T v{};
    bytes json;
    detail::json::write(detail::json::info_v<T>, std::addressof(v), json, {});
    return std::string(as_chars(json));
  }
  std::shared_ptr<detail::avro::core> _core;
};

}  // namespace rill
