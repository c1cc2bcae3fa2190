// Everything a Rill service includes: the DSL, the processor API, serdes (JSON for Hana
// structs included), config, the app, logging, and the plain clients. Tests add
// <rill/testing/test_driver.hpp>.
#pragma once

#include <rill/clients.hpp>
#include <rill/cogroup.hpp>
#include <rill/config.hpp>
#include <rill/embedded_broker.hpp>
#include <rill/errors.hpp>
#include <rill/feedback.hpp>
#include <rill/global_table.hpp>
#include <rill/handlers.hpp>
#include <rill/joins.hpp>
#include <rill/json.hpp>
#include <rill/logging.hpp>
#include <rill/options.hpp>
#include <rill/processor.hpp>
#include <rill/queries.hpp>
#include <rill/record.hpp>
#include <rill/serde.hpp>
#include <rill/stream.hpp>
#include <rill/streams_app.hpp>
#include <rill/streams_builder.hpp>
#include <rill/table.hpp>
#include <rill/topology.hpp>
#include <rill/tracing.hpp>
#include <rill/window.hpp>
#include <rill/window_store.hpp>
#include <rill/windows.hpp>
