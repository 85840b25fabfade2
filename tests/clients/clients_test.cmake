# The npm clients test (clients_test.mjs), for the release build: npm ci
# installs the official openai and ollama clients (pinned by
# package-lock.json) into build/clients-test/ when the lock changes, and
# CTest runs it as `npm_clients` against `hy2bit serve` on the tiny model.
find_program(HY2BIT_NODE node)
find_program(HY2BIT_NPM npm)
if(NOT HY2BIT_NODE OR NOT HY2BIT_NPM)
  message(WARNING "node or npm not found: the npm clients test (npm_clients) is left out; scripts/setup.sh installs them")
  return()
endif()

set(HY2BIT_CLIENTS_TEST_DIR ${CMAKE_BINARY_DIR}/clients-test)
set(clients_lock ${CMAKE_SOURCE_DIR}/tests/clients/package-lock.json)
add_custom_command(
  OUTPUT ${HY2BIT_CLIENTS_TEST_DIR}/node_modules/.package-lock.json
  COMMAND ${CMAKE_COMMAND} -E make_directory ${HY2BIT_CLIENTS_TEST_DIR}
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/tests/clients/package.json ${clients_lock} ${HY2BIT_CLIENTS_TEST_DIR}
  COMMAND ${HY2BIT_NPM} ci --prefix ${HY2BIT_CLIENTS_TEST_DIR} --no-audit --no-fund --prefer-offline --loglevel=error
  DEPENDS ${CMAKE_SOURCE_DIR}/tests/clients/package.json ${clients_lock}
  COMMENT "npm ci: the openai and ollama npm clients into build/clients-test"
  VERBATIM)
add_custom_target(clients_test_deps ALL DEPENDS ${HY2BIT_CLIENTS_TEST_DIR}/node_modules/.package-lock.json)

add_test(NAME npm_clients
  COMMAND ${HY2BIT_NODE} ${CMAKE_SOURCE_DIR}/tests/clients/clients_test.mjs
          --hy2bit $<TARGET_FILE:hy2bit_cli>
          --model ${HY2BIT_TESTDATA_DIR}/models/hy-tiny-q2_0c.gguf
          --modules ${HY2BIT_CLIENTS_TEST_DIR})
set_tests_properties(npm_clients PROPERTIES TIMEOUT 120)
