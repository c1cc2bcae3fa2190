# cmake --install: headers, libraries, the CMake package (rillConfig.cmake, exported targets
# rill::rill and rill::testing and the layers they link, and rill::registry when built) and
# rill.pc (and rill-registry.pc), under GNUInstallDirs.
set(rill_installed rill_api rill_topology rill_state rill_serde rill_log rill_kafka rill_http rill_runtime rill rill_testing)
install(TARGETS ${rill_installed} EXPORT rillTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/rill DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT rillTargets NAMESPACE rill:: FILE rillTargets.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rill)
# rill::registry, when built (RILL_BUILD_REGISTRY; otherwise rill_registry is only a name for
# the layering check): an export file of its own, which rillConfig.cmake loads when it finds
# Avro C, libprotobuf and OpenSSL, so that finding rill needs none of them.
if(RILL_BUILD_REGISTRY)
  install(TARGETS rill_registry EXPORT rillRegistryTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT rillRegistryTargets NAMESPACE rill:: FILE rillRegistryTargets.cmake
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rill)
endif()

include(CMakePackageConfigHelpers)
configure_package_config_file(cmake/rillConfig.cmake.in
  ${PROJECT_BINARY_DIR}/rillConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rill)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/rillConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/rillConfig.cmake ${PROJECT_BINARY_DIR}/rillConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rill)

# pkg-config: static libraries need their dependencies on every link; shared ones only
# at their own.
if(BUILD_SHARED_LIBS)
  set(RILL_PC_REQUIRES "")
  set(RILL_PC_REQUIRES_PRIVATE "rdkafka rocksdb fmt spdlog simdjson")
else()
  set(RILL_PC_REQUIRES "rdkafka rocksdb fmt spdlog simdjson")
  set(RILL_PC_REQUIRES_PRIVATE "")
endif()
if(RILL_SANITIZE)
  set(RILL_PC_SANITIZE "-fsanitize=${RILL_SANITIZE}")  # a sanitized build needs its runtime
else()
  set(RILL_PC_SANITIZE "")
endif()
configure_file(cmake/rill.pc.in ${PROJECT_BINARY_DIR}/rill.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/rill.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
# rill-registry.pc: `pkg-config --libs rill-registry` is rill's flags and the registry's.
if(RILL_BUILD_REGISTRY)
  if(BUILD_SHARED_LIBS)
    set(RILL_REGISTRY_PC_REQUIRES "rill protobuf")
    set(RILL_REGISTRY_PC_REQUIRES_PRIVATE "avro-c openssl")
  else()
    set(RILL_REGISTRY_PC_REQUIRES "rill protobuf avro-c openssl")
    set(RILL_REGISTRY_PC_REQUIRES_PRIVATE "")
  endif()
  configure_file(cmake/rill-registry.pc.in ${PROJECT_BINARY_DIR}/rill-registry.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/rill-registry.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()
