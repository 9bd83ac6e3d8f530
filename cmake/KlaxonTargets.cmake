# Conventions every Klaxon target follows: strict warnings for our own code, optional
# sanitizers for the whole build, and one-line helpers for libraries and tests.

set(KLAXON_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
    -Woverloaded-virtual -Wold-style-cast -Wcast-align -Wnull-dereference -Werror
    # GCC 12 flags every member a designated initializer leaves to its default; STYLE.md asks
    # for exactly that idiom (option structs with designated initializers).
    -Wno-missing-field-initializers)

# klaxon_library(NAME SOURCES a.cc b.cc DEPS x y): a static library with alias klaxon::NAME.
function(klaxon_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(klaxon_${name} STATIC ${ARG_SOURCES})
  add_library(klaxon::${name} ALIAS klaxon_${name})
  target_compile_options(klaxon_${name} PRIVATE ${KLAXON_WARNINGS})
  target_include_directories(klaxon_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(klaxon_${name} PUBLIC ${ARG_DEPS})
endfunction()

# klaxon_release_tree_target(TARGET): TARGET is part of what scripts/test.sh builds in the release
# tree (the target release-tree-suite, see the top-level CMakeLists.txt).
function(klaxon_release_tree_target target)
  set_property(GLOBAL APPEND PROPERTY KLAXON_RELEASE_TREE_TARGETS ${target})
endfunction()

# klaxon_executable(NAME SOURCES main.cc DEPS ...): a binary built with our warnings.
function(klaxon_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${KLAXON_WARNINGS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  klaxon_release_tree_target(${name})
endfunction()

# klaxon_test(NAME SOURCES x_test.cc DEPS ... [INTEGRATION] [TIMING] [RELEASE_TREE] [PER_FILE]
#             [TIMEOUT seconds]): a GoogleTest binary registered with ctest. INTEGRATION tests need
# the real Kafka/Redis/Postgres started by scripts/stack.sh via scripts/test.sh (they read
# KLAXON_TEST_* variables) and are labelled so they can be run on their own.
#
# scripts/test.sh runs each test once, in one of the two trees (ADR 0031): the sanitizer tree runs
# every test except those labelled "release-tree", the release tree only those. TIMING tests carry
# both "timing" and "release-tree": they measure rates or ride out restarts against the wall clock,
# and sanitizers slow every process several-fold, which changes what they measure. RELEASE_TREE
# marks a test that only exists in the release tree (the load generators' own tests).
#
# PER_FILE registers each source file as a ctest test of its own, named after the file (x_test),
# that runs only the test suites the file defines: long tests (the e2e tests) keep a name, a
# timeout and a result each, while their files share one binary that compiles in unity batches
# and links once (ADR 0046). Each file defines its suites with TEST or TEST_F, and no suite is
# defined in two files (both checked when CMake runs); a test of its own, NAME_runs_every_suite,
# fails when the binary holds a suite no file's filter names (a test CMake did not see). TIMEOUT
# applies to every file's test.
function(klaxon_test name)
  cmake_parse_arguments(ARG "INTEGRATION;TIMING;RELEASE_TREE;PER_FILE" "TIMEOUT" "SOURCES;DEPS"
                        ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${KLAXON_WARNINGS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  # They run in the release tree only, so a sanitizer tree neither builds them by default nor
  # registers them: scripts/test.sh's build of that tree skips their compiles and links.
  if(KLAXON_SANITIZE AND (ARG_TIMING OR ARG_RELEASE_TREE))
    set_target_properties(${name} PROPERTIES EXCLUDE_FROM_ALL TRUE)
    return()
  endif()
  if(ARG_PER_FILE)
    set(tests)
    set(suites_seen)
    foreach(source IN LISTS ARG_SOURCES)
      get_filename_component(test ${source} NAME_WE)
      klaxon_test_suites_of(${source} suites)
      foreach(suite IN LISTS suites)
        if(suite IN_LIST suites_seen)
          message(FATAL_ERROR "${name}: test suite ${suite} is defined in two of its files; "
                              "give ${source}'s suite a name of its own")
        endif()
      endforeach()
      list(APPEND suites_seen ${suites})
      list(TRANSFORM suites APPEND ".*")
      list(JOIN suites ":" filter)
      add_test(NAME ${test} COMMAND ${name} --gtest_filter=${filter})
      list(APPEND tests ${test})
    endforeach()
    list(JOIN suites_seen "," suites_seen)
    add_test(NAME ${name}_runs_every_suite
             COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:${name}> -DSUITES=${suites_seen}
                     -P ${PROJECT_SOURCE_DIR}/cmake/check_per_file_filters.cmake)
    list(APPEND tests ${name}_runs_every_suite)
  else()
    add_test(NAME ${name} COMMAND ${name})
    set(tests ${name})
  endif()
  if(ARG_INTEGRATION)
    set(label integration)
  else()
    set(label unit)
  endif()
  if(ARG_TIMING)
    list(APPEND label timing release-tree)
  elseif(ARG_RELEASE_TREE)
    list(APPEND label release-tree)
  endif()
  if(ARG_TIMING OR ARG_RELEASE_TREE)
    klaxon_release_tree_target(${name})
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${tests} PROPERTIES LABELS "${label}" TIMEOUT ${ARG_TIMEOUT})
endfunction()

# klaxon_test_suites_of(SOURCE OUT): the test suites SOURCE defines with TEST or TEST_F, for
# klaxon_test's PER_FILE. CMake runs again when SOURCE changes, so a suite added is registered.
function(klaxon_test_suites_of source out)
  get_filename_component(path ${source} ABSOLUTE)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${path})
  file(STRINGS ${path} lines REGEX "^(TEST|TEST_F|TEST_P|TYPED_TEST|TYPED_TEST_P)\\(")
  set(suites)
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "^TEST(_F)?\\(([A-Za-z0-9_]+),")
      message(FATAL_ERROR "${source}: \"${line}\": a test of a PER_FILE binary is defined with "
                          "TEST or TEST_F, so that its file's filter (Suite.*) finds it")
    endif()
    list(APPEND suites ${CMAKE_MATCH_2})
  endforeach()
  if(NOT suites)
    message(FATAL_ERROR "${source} defines no test with TEST or TEST_F")
  endif()
  list(REMOVE_DUPLICATES suites)
  set(${out} ${suites} PARENT_SCOPE)
endfunction()
