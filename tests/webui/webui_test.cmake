# The chat page's headless-Chromium test (webui_test.mjs), for the release
# build: npm ci installs its one client (playwright-core, pinned by
# package-lock.json) into build/webui-test/ when the lock changes, and CTest
# runs it as `webui_chromium`. Chromium comes from Debian (scripts/setup.sh).
find_program(HY2BIT_NODE node)
find_program(HY2BIT_NPM npm)
if(NOT HY2BIT_NODE OR NOT HY2BIT_NPM)
  message(WARNING "node or npm not found: the chat page test (webui_chromium) is left out; scripts/setup.sh installs them")
  return()
endif()

set(HY2BIT_WEBUI_TEST_DIR ${CMAKE_BINARY_DIR}/webui-test)
set(webui_lock ${CMAKE_SOURCE_DIR}/tests/webui/package-lock.json)
add_custom_command(
  OUTPUT ${HY2BIT_WEBUI_TEST_DIR}/node_modules/.package-lock.json
  COMMAND ${CMAKE_COMMAND} -E make_directory ${HY2BIT_WEBUI_TEST_DIR}
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/tests/webui/package.json ${webui_lock} ${HY2BIT_WEBUI_TEST_DIR}
  COMMAND ${HY2BIT_NPM} ci --prefix ${HY2BIT_WEBUI_TEST_DIR} --no-audit --no-fund --prefer-offline --loglevel=error
  DEPENDS ${CMAKE_SOURCE_DIR}/tests/webui/package.json ${webui_lock}
  COMMENT "npm ci: the chat page test's client (playwright-core) into build/webui-test"
  VERBATIM)
add_custom_target(webui_test_deps ALL DEPENDS ${HY2BIT_WEBUI_TEST_DIR}/node_modules/.package-lock.json)

add_test(NAME webui_chromium
  COMMAND ${HY2BIT_NODE} ${CMAKE_SOURCE_DIR}/tests/webui/webui_test.mjs
          --hy2bit $<TARGET_FILE:hy2bit_cli>
          --model ${HY2BIT_TESTDATA_DIR}/models/hy-tiny-q2_0c.gguf
          --modules ${HY2BIT_WEBUI_TEST_DIR})
set_tests_properties(webui_chromium PROPERTIES TIMEOUT 120)
