# Script mode (cmake -P), the test klaxon_test's PER_FILE adds for each such binary: fails when the
# binary holds a test suite that no file's filter runs. The suites are read from the sources with a
# pattern (TEST or TEST_F at the start of a line); a test defined another way (indented, through a
# macro of our own) would be compiled into the binary and never run by any ctest test.
#   cmake -DBINARY=path -DSUITES=A,B -P check_per_file_filters.cmake
cmake_minimum_required(VERSION 3.25)
execute_process(COMMAND ${BINARY} --gtest_list_tests OUTPUT_VARIABLE listing
                RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${BINARY} --gtest_list_tests exited with ${result}")
endif()
string(REPLACE "," ";" SUITES "${SUITES}")
# gtest lists each suite as "Suite." at the start of a line, its tests indented below it (a typed
# or parameterised one as "Suite/0." or "Prefix/Suite.", which no file's filter names).
string(REGEX MATCHALL "(^|\n)[A-Za-z0-9_/]+\\." listed "${listing}")
set(unrun)
foreach(entry IN LISTS listed)
  string(REGEX REPLACE "^\n?([A-Za-z0-9_/]+)\\.$" "\\1" suite "${entry}")
  if(NOT suite IN_LIST SUITES)
    list(APPEND unrun ${suite})
  endif()
endforeach()
if(unrun)
  list(JOIN unrun ", " unrun)
  message(FATAL_ERROR "${BINARY} holds test suites no ctest test runs: ${unrun}. Define their "
                      "tests with TEST or TEST_F at the start of a line, so that CMake finds them")
endif()
list(LENGTH listed count)
message(STATUS "every one of the ${count} test suites of ${BINARY} is run by a file's test")
