// protobuf_serde's compiled half: the .proto text and references of a message's file, the
// message-index list, the subject ids for writing and the writer schemas for reading.
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>

#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <rill/protobuf.hpp>

#include "serde_ids.hpp"

namespace rill::detail::protobuf {

namespace gp = google::protobuf;
using namespace rill::registry;

namespace {

// The message's path in its file: top-level index, then nested indexes.
std::vector<int> path_of(const gp::Descriptor* d) {
  std::vector<int> path;
  for (; d != nullptr; d = d->containing_type()) path.insert(path.begin(), d->index());
  return path;
}

class collector final : public gp::io::ErrorCollector {
 public:
  void AddError(int line, gp::io::ColumnNumber column, const std::string& message) override {
    if (text.empty())
      text = "line " + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message;
  }
  std::string text;
};

// The full name of the message the index list names in a .proto file, or why there is none.
std::string message_at(const gp::FileDescriptorProto& file, const std::vector<int>& indexes) {
  std::string name = file.package();
  const gp::DescriptorProto* m = nullptr;
  for (int i : indexes) {
    const int count = m == nullptr ? file.message_type_size() : m->nested_type_size();
    if (i >= count) {
      throw serde_error("the message-index list names message " + std::to_string(i) + " of " +
                        std::to_string(count) + " in the writer's schema");
    }
    m = m == nullptr ? &file.message_type(i) : &m->nested_type(i);
    name += (name.empty() ? "" : ".") + m->name();
  }
  return name;
}

}  // namespace

class core {
 public:
  core(const gp::Descriptor* d, std::shared_ptr<client> reg_)
      : descriptor(d), reg(std::move(reg_)), ids(reg), indexes(path_of(d)) {
    schema.type = "PROTOBUF";
    schema.text = d->file()->DebugString();
    what = "rill::protobuf_serde<" + d->full_name() + ">";
  }

  std::string context(const serde_context& ctx, bool reading) const {
    return what + (reading ? ": cannot read a " : ": cannot write a ") +
           (ctx.is_key ? "key" : "value") + (reading ? " from" : " to") + " topic '" +
           std::string(ctx.topic) + "'";
  }

  // The subject and version of each import, registered first when auto_register is on.
  reference reference_to(const gp::FileDescriptor* f) {
    rill::registry::schema s{"PROTOBUF", f->DebugString(), {}};
    for (int i = 0; i < f->dependency_count(); ++i)
      s.references.push_back(reference_to(f->dependency(i)));
    const std::string subject = f->name();
    if (reg->config().auto_register) reg->register_schema(subject, s);
    auto found = reg->lookup(subject, s);
    if (!found) {
      throw registry_error("the import " + f->name() + " is not registered under subject '" +
                               subject + "' and auto_register is off",
                           404, 40403);
    }
    return {f->name(), subject, found->version};
  }

  const rill::registry::schema& with_references() {
    std::call_once(references_done, [&] {
      const gp::FileDescriptor* f = descriptor->file();
      for (int i = 0; i < f->dependency_count(); ++i)
        schema.references.push_back(reference_to(f->dependency(i)));
    });
    return schema;
  }

  std::shared_ptr<const gp::FileDescriptorProto> writer_file(int id) {
    {
      std::shared_lock lock(mutex);
      if (auto it = files.find(id); it != files.end()) return it->second;
    }
    const rill::registry::schema writer = reg->by_id(id);
    if (writer.type != "PROTOBUF") {
      throw serde_error("schema id " + std::to_string(id) + " is a " + writer.type +
                        " schema, not Protobuf");
    }
    auto file = std::make_shared<gp::FileDescriptorProto>();
    gp::io::ArrayInputStream input(writer.text.data(), static_cast<int>(writer.text.size()));
    collector errors;
    gp::io::Tokenizer tokenizer(&input, &errors);
    gp::compiler::Parser parser;
    parser.RecordErrorsTo(&errors);
    if (!parser.Parse(&tokenizer, file.get())) {
      throw serde_error("schema id " + std::to_string(id) +
                        " is not valid .proto text: " + errors.text);
    }
    std::unique_lock lock(mutex);
    return files.emplace(id, std::move(file)).first->second;
  }

  // Whether records of schema id `id` with this index list hold this serde's message.
  bool accepted(int id, const std::vector<int>& indexes) {
    std::shared_lock lock(mutex);
    return checked.count({id, indexes}) > 0;
  }

  const gp::Descriptor* descriptor;
  std::shared_ptr<client> reg;
  registry::detail::subject_ids ids;
  std::vector<int> indexes;
  rill::registry::schema schema;
  std::once_flag references_done;
  std::string what;
  std::shared_mutex mutex;
  std::map<int, std::shared_ptr<const gp::FileDescriptorProto>> files;
  std::set<std::pair<int, std::vector<int>>> checked;
};

std::shared_ptr<core> make_core(const gp::Descriptor* d, std::shared_ptr<client> reg) {
  if (!reg) throw config_error("rill::protobuf_serde<" + d->full_name() + ">: no registry client");
  return std::make_shared<core>(d, std::move(reg));
}

void write_prefix(core& c, bytes& out, const serde_context& ctx) {
  try {
    const int id = c.ids.id_for(ctx, c.descriptor->full_name(), c.with_references());
    wire::write_header(out, id);
    wire::write_message_indexes(out, c.indexes);
  } catch (const serde_error& e) {
    throw serde_error(c.context(ctx, false) + ": " + e.what());
  }
}

std::size_t read_prefix(core& c, bytes_view in, const serde_context& ctx) {
  try {
    const int id = wire::read_header(in, "the record");
    std::size_t pos = wire::header_size;
    const std::vector<int> indexes = wire::read_message_indexes(in, pos, "the record");
    if (!c.accepted(id, indexes)) {
      const std::string name = message_at(*c.writer_file(id), indexes);
      if (name != c.descriptor->full_name())
        throw serde_error("the record holds a " + name + ", not a " + c.descriptor->full_name());
      std::unique_lock lock(c.mutex);
      c.checked.emplace(id, indexes);
    }
    return pos;
  } catch (const serde_error& e) {
    throw serde_error(c.context(ctx, true) + ": " + e.what());
  }
}

void parse_failed(const core& c, const serde_context& ctx, std::size_t size) {
  throw serde_error(c.context(ctx, true) + ": the " + std::to_string(size) +
                    "-byte payload does not parse as " + c.descriptor->full_name());
}

const registry::schema& schema_of(const core& c) {
  return c.schema;
}

}  // namespace rill::detail::protobuf
