// avro_serde's compiled half: the schema and subject ids for writing, the writer schemas
// (as plans) for reading, both cached per serde.
#include <map>
#include <mutex>
#include <shared_mutex>

#include <rill/avro.hpp>

#include "avro_codec.hpp"
#include "serde_ids.hpp"

namespace rill::detail::avro {

using namespace rill::registry;

class core {
 public:
  core(const json::type_info& t, std::string_view defaults, std::shared_ptr<client> reg_,
       std::string record_name)
      : type(t), reg(std::move(reg_)), ids(reg), name(std::move(record_name)) {
    schema.text = avro_detail::schema_json(t, defaults, name);
    avro_detail::parse_schema(schema.text);  // a schema Avro C refuses is a bug: say so now
    what = "rill::avro_serde<" + t.name() + ">";
  }

  std::string context(const serde_context& ctx, bool reading) const {
    return what + (reading ? ": cannot read a " : ": cannot write a ") +
           (ctx.is_key ? "key" : "value") + (reading ? " from" : " to") + " topic '" +
           std::string(ctx.topic) + "'";
  }

  // Plans stay for the serde's lifetime, so a plain pointer is safe to hand out.
  const avro_detail::plan* plan_for(int id) {
    {
      std::shared_lock lock(mutex);
      if (auto it = plans.find(id); it != plans.end()) return it->second.get();
    }
    const rill::registry::schema writer = reg->by_id(id);
    if (writer.type != "AVRO") {
      throw serde_error("schema id " + std::to_string(id) + " is a " + writer.type +
                        " schema, not Avro");
    }
    auto plan =
        std::make_shared<const avro_detail::plan>(avro_detail::parse_schema(writer.text), type);
    std::unique_lock lock(mutex);
    return plans.emplace(id, std::move(plan)).first->second.get();
  }

  const json::type_info& type;
  std::shared_ptr<client> reg;
  registry::detail::subject_ids ids;
  rill::registry::schema schema;
  std::string name;
  std::string what;
  std::shared_mutex mutex;
  std::map<int, std::shared_ptr<const avro_detail::plan>> plans;
};

std::shared_ptr<core> make_core(const json::type_info& t, std::string defaults_json,
                                std::shared_ptr<client> reg, std::string record_name) {
  if (!reg) throw config_error("rill::avro_serde<" + t.name() + ">: no registry client");
  return std::make_shared<core>(t, defaults_json, std::move(reg), std::move(record_name));
}

void serialize(core& c, const void* v, bytes& out, const serde_context& ctx) {
  try {
    const int id = c.ids.id_for(ctx, c.name, c.schema);
    registry::wire::write_header(out, id);
    avro_detail::encode(c.type, v, out);
  } catch (const serde_error& e) {
    throw serde_error(c.context(ctx, false) + ": " + e.what());
  }
}

void deserialize(core& c, void* v, bytes_view in, const serde_context& ctx) {
  try {
    const int id = registry::wire::read_header(in, "the record");
    c.plan_for(id)->decode(in.subspan(registry::wire::header_size), v);
  } catch (const serde_error& e) {
    throw serde_error(c.context(ctx, true) + ": " + e.what());
  }
}

const std::string& schema_text(const core& c) {
  return c.schema.text;
}
const std::string& full_name(const core& c) {
  return c.name;
}

}  // namespace rill::detail::avro
