// The registry client against tests/registry/test_registry.py, Confluent's wire format,
// subject names and settings.
#include <gtest/gtest.h>

#include <rill/config.hpp>
#include <rill/registry.hpp>

#include "../registry/registry_server.hpp"

using namespace rill::registry;

namespace {

const schema order_v1{"AVRO",
                      R"({"type":"record","name":"order","namespace":"shop","fields":[)"
                      R"({"name":"id","type":"string"}]})",
                      {}};
const schema order_v2_with_default{
    "AVRO",
    R"({"type":"record","name":"order","namespace":"shop","fields":[)"
    R"({"name":"id","type":"string"},{"name":"amount","type":"double","default":0.0}]})",
    {}};
const schema order_v2_without_default{
    "AVRO",
    R"({"type":"record","name":"order","namespace":"shop","fields":[)"
    R"({"name":"id","type":"string"},{"name":"amount","type":"double"}]})",
    {}};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const registry_error& e) {
    return e.what();
  }
  return "(no registry_error)";
}

}  // namespace

TEST(registry_client, registers_a_schema_and_reads_it_back_by_id_and_by_version) {
  rill::test::registry_server server;
  auto reg = connect({.url = server.url()});
  const int id = reg->register_schema("orders-value", order_v1);
  EXPECT_GT(id, 0);
  EXPECT_EQ(reg->register_schema("orders-value", order_v1), id);  // the same schema, same id
  EXPECT_EQ(reg->by_id(id), order_v1);
  const registered_schema latest = reg->by_version("orders-value", -1);
  EXPECT_EQ(latest.id, id);
  EXPECT_EQ(latest.version, 1);
  EXPECT_EQ(latest.schema, order_v1);
  auto found = reg->lookup("orders-value", order_v1);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, id);
  EXPECT_FALSE(reg->lookup("orders-value", order_v2_with_default).has_value());
  EXPECT_FALSE(reg->lookup("no-such-subject", order_v1).has_value());
}

TEST(registry_client, evolves_a_subject_only_compatibly_and_says_why_not) {
  rill::test::registry_server server;
  auto reg = connect({.url = server.url()});
  const int v1 = reg->register_schema("orders-value", order_v1);
  EXPECT_TRUE(reg->is_compatible("orders-value", order_v2_with_default));
  EXPECT_FALSE(reg->is_compatible("orders-value", order_v2_without_default));
  EXPECT_EQ(error_of([&] { reg->register_schema("orders-value", order_v2_without_default); }),
            "registry: register a schema under subject 'orders-value': HTTP 409 (error 409): "
            "Schema being registered is incompatible with an earlier schema for subject "
            "\"orders-value\", details: reader field 'amount' has no default and the writer "
            "lacks it");
  const int v2 = reg->register_schema("orders-value", order_v2_with_default);
  EXPECT_NE(v1, v2);
  EXPECT_EQ(reg->by_version("orders-value", 2).id, v2);
  EXPECT_EQ(reg->by_version("orders-value", 1).id, v1);
}

TEST(registry_client, errors_name_the_subject_or_id_and_the_registrys_answer) {
  rill::test::registry_server server;
  auto reg = connect({.url = server.url()});
  EXPECT_EQ(error_of([&] { reg->by_id(42); }),
            "registry: fetch schema id 42: HTTP 404 (error 40403): Schema 42 not found");
  EXPECT_EQ(error_of([&] { reg->by_version("payments-value", -1); }),
            "registry: fetch version latest of subject 'payments-value': HTTP 404 (error 40401): "
            "Subject 'payments-value' not found.");
  reg->register_schema("orders-value", order_v1);
  EXPECT_EQ(error_of([&] { reg->by_version("orders-value", 7); }),
            "registry: fetch version 7 of subject 'orders-value': HTTP 404 (error 40402): "
            "Version not found.");
  try {
    reg->register_schema("bad-value", {"AVRO", "{not json", {}});
    FAIL() << "an invalid schema was registered";
  } catch (const registry_error& e) {
    EXPECT_EQ(e.http_status(), 422);
    EXPECT_EQ(e.error_code(), 42201);
    EXPECT_NE(std::string(e.what()).find("subject 'bad-value'"), std::string::npos) << e.what();
  }
}

TEST(registry_client, sends_basic_auth_when_set) {
  rill::test::registry_server server({.user = "ann:secret"});
  auto anonymous = connect({.url = server.url()});
  EXPECT_EQ(error_of([&] { anonymous->register_schema("orders-value", order_v1); }),
            "registry: register a schema under subject 'orders-value': HTTP 401 (error 401): "
            "Unauthorized");
  auto ann = connect({.url = server.url(), .basic_auth = "ann:secret"});
  EXPECT_GT(ann->register_schema("orders-value", order_v1), 0);
}

TEST(registry_client, serves_cached_schemas_and_ids_while_the_registry_is_down) {
  rill::test::registry_server server;
  auto reg = connect({.url = server.url(), .timeout = std::chrono::seconds(2)});
  const int id = reg->register_schema("orders-value", order_v1);
  reg->by_version("orders-value", -1);
  server.stop();
  EXPECT_EQ(reg->by_id(id), order_v1);
  EXPECT_EQ(reg->register_schema("orders-value", order_v1), id);
  EXPECT_EQ(reg->lookup("orders-value", order_v1)->id, id);
  EXPECT_EQ(reg->by_version("orders-value", -1).id, id);
  const std::string what = error_of([&] { reg->by_id(id + 1); });
  EXPECT_EQ(what.rfind("registry: fetch schema id " + std::to_string(id + 1) +
                           ": cannot connect to 127.0.0.1:" + std::to_string(server.port()),
                       0),
            0u)
      << what;
}

TEST(registry_wire, frames_records_as_confluents_serializers_do) {
  rill::bytes out;
  wire::write_header(out, 0x01020304);
  EXPECT_EQ(out,
            (rill::bytes{std::byte{0}, std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}}));
  EXPECT_EQ(wire::read_header(out, "test"), 0x01020304);
  rill::bytes wrong = out;
  wrong[0] = std::byte{1};
  EXPECT_THROW(
      {
        try {
          wire::read_header(wrong, "rill::avro_serde<order> on topic 'orders'");
        } catch (const rill::serde_error& e) {
          EXPECT_STREQ(e.what(),
                       "rill::avro_serde<order> on topic 'orders': unknown magic byte 1, "
                       "expected 0 (not written by a schema-registry serializer)");
          throw;
        }
      },
      rill::serde_error);
  EXPECT_THROW(wire::read_header(rill::bytes(3), "t"), rill::serde_error);
}

TEST(registry_wire, writes_the_protobuf_message_index_list_as_zigzag_varints) {
  auto encode = [](std::vector<int> indexes) {
    rill::bytes out;
    wire::write_message_indexes(out, indexes);
    return out;
  };
  EXPECT_EQ(encode({0}), rill::bytes{std::byte{0}});
  EXPECT_EQ(encode({1}), (rill::bytes{std::byte{2}, std::byte{2}}));
  EXPECT_EQ(encode({1, 0}), (rill::bytes{std::byte{4}, std::byte{2}, std::byte{0}}));
  EXPECT_EQ(encode({70}), (rill::bytes{std::byte{2}, std::byte{0x8c}, std::byte{0x01}}));
  for (const std::vector<int>& list : {std::vector<int>{0}, {3}, {1, 2, 3}, {200, 0}}) {
    const rill::bytes b = encode(list);
    std::size_t pos = 0;
    EXPECT_EQ(wire::read_message_indexes(b, pos, "t"), list);
    EXPECT_EQ(pos, b.size());
  }
  std::size_t pos = 0;
  EXPECT_THROW(wire::read_message_indexes(rill::bytes{std::byte{0x7e}}, pos, "t"),
               rill::serde_error);  // 63 entries in a 1-byte record
}

TEST(registry_settings, names_subjects_by_each_strategy) {
  EXPECT_EQ(subject_name(subject_strategy::topic_name, "orders", false, "shop.order"),
            "orders-value");
  EXPECT_EQ(subject_name(subject_strategy::topic_name, "orders", true, "shop.order"), "orders-key");
  EXPECT_EQ(subject_name(subject_strategy::record_name, "orders", false, "shop.order"),
            "shop.order");
  EXPECT_EQ(subject_name(subject_strategy::topic_record_name, "orders", false, "shop.order"),
            "orders-shop.order");
}

TEST(registry_settings, reads_the_tls_settings_by_their_confluent_names) {
  const settings s =
      settings::from({{"schema.registry.url", "https://r:8081"},
                      {"schema.registry.ssl.ca.location", "/etc/rill/ca.pem"},
                      {"schema.registry.ssl.certificate.location", "/etc/rill/client.pem"},
                      {"schema.registry.ssl.key.location", "/etc/rill/client.key"},
                      {"schema.registry.ssl.key.password", "hunter2"},
                      {"schema.registry.ssl.endpoint.identification.algorithm", "none"}});
  EXPECT_EQ(s.tls.ca_location, "/etc/rill/ca.pem");
  EXPECT_EQ(s.tls.certificate_location, "/etc/rill/client.pem");
  EXPECT_EQ(s.tls.key_location, "/etc/rill/client.key");
  EXPECT_EQ(s.tls.key_password, "hunter2");
  EXPECT_TRUE(s.tls.verify_certificate);
  EXPECT_FALSE(s.tls.verify_hostname);
  EXPECT_TRUE(settings{}.tls.verify_certificate && settings{}.tls.verify_hostname);
  EXPECT_FALSE(settings::from({{"schema.registry.enable.ssl.certificate.verification", "false"}})
                   .tls.verify_certificate);
  EXPECT_TRUE(settings::from({{"schema.registry.ssl.endpoint.identification.algorithm", "https"}})
                  .tls.verify_hostname);
}

TEST(registry_settings, reads_confluents_setting_names_and_refuses_unknown_ones) {
  const settings s =
      settings::from({{"schema.registry.url", "http://r:8081"},
                      {"auto.register.schemas", "true"},
                      {"basic.auth.user.info", "u:p"},
                      {"value.subject.name.strategy",
                       "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"},
                      {"key.subject.name.strategy", "RecordNameStrategy"},
                      {"schema.registry.request.timeout.ms", "2500"}});
  EXPECT_EQ(s.url, "http://r:8081");
  EXPECT_TRUE(s.auto_register);
  EXPECT_EQ(s.basic_auth, "u:p");
  EXPECT_EQ(s.value_strategy, subject_strategy::topic_record_name);
  EXPECT_EQ(s.key_strategy, subject_strategy::record_name);
  EXPECT_EQ(s.timeout, std::chrono::milliseconds(2500));
  EXPECT_THROW(settings::from({{"schema.registry.ur", "x"}}), rill::config_error);
  EXPECT_THROW(settings::from({{"schema.registry.ssl.endpoint.identification.algorithm", "dns"}}),
               rill::config_error);
  EXPECT_THROW(settings::from({{"value.subject.name.strategy", "ByColour"}}), rill::config_error);
  EXPECT_THROW(connect({.url = "ftp://r"}), rill::config_error);
}
