# cmake/custodia_module.cmake: helpers for module libraries and their tests.

# custodia_module(NAME SOURCES...): static library custodia_NAME, with the
# repository root as its include directory ("vault/vault.h").
function(custodia_module name)
  add_library(custodia_${name} STATIC ${ARGN})
  target_include_directories(custodia_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(custodia_${name} PRIVATE custodia_settings)
endfunction()

# custodia_fuzz(NAME SOURCE LIBS libs...): a libFuzzer target, built only
# with CU_FUZZ (scripts/fuzz.sh runs every one).
function(custodia_fuzz name)
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  if(NOT CU_FUZZ)
    return()
  endif()
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE custodia_settings ${ARG_LIBS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/fuzz)
endfunction()

# custodia_test(NAME SOURCES... LIBS libs...): a GoogleTest executable whose
# TESTs each become a ctest case.
function(custodia_test name)
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  if(NOT CU_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE custodia_settings ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "CUSTODIA_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
