# Compile-fail check: SOURCE must compile without RILL_COMPILE_FAIL (so the failure below is
# not a missing include), and must fail with it, with the text of its "// expect:" line in
# the compiler's output.
foreach(flag_set "ok" "fail")
  set(defs "")
  if(flag_set STREQUAL "fail")
    set(defs "-DRILL_COMPILE_FAIL")
  endif()
  execute_process(
    COMMAND ${CXX} -std=c++20 -fsyntax-only -I${INCLUDE} -I/usr/include/simdjson ${defs} ${SOURCE}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(flag_set STREQUAL "ok" AND NOT rc EQUAL 0)
    message(FATAL_ERROR "${SOURCE} does not compile even without RILL_COMPILE_FAIL:\n${err}")
  endif()
endforeach()
if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled with RILL_COMPILE_FAIL, but must not")
endif()
file(STRINGS ${SOURCE} expect_lines REGEX "^// expect: ")
list(GET expect_lines 0 expected)
string(REPLACE "// expect: " "" expected "${expected}")
string(FIND "${err}" "error: ${expected}" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "${SOURCE}: expected the compiler to say\n  ${expected}\nbut it said:\n${err}")
endif()
# The message must come first, on one line: count the errors before it.
string(SUBSTRING "${err}" 0 ${pos} before)
string(REGEX MATCHALL "error:" errors_before "${before}")
list(LENGTH errors_before n)
if(n GREATER 0)
  message(FATAL_ERROR "${SOURCE}: ${n} other error(s) come before the expected message:\n${err}")
endif()
message(STATUS "${SOURCE}: fails as expected")
