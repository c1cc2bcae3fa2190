# cmake --install: headers, libraries, the CMake package (rillConfig.cmake, exported targets
# rill::rill and rill::testing and the layers they link) and rill.pc, under GNUInstallDirs.
set(rill_installed rill_api rill_topology rill_state rill_serde rill_log rill_kafka rill_http rill_runtime rill rill_testing)
install(TARGETS ${rill_installed} EXPORT rillTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/rill DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT rillTargets NAMESPACE rill:: FILE rillTargets.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rill)

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
