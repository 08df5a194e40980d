# Render one scdoc page into roff and write its alias pages; run by the
# custom commands of docs/man/CMakeLists.txt:
#   cmake -DSCDOC=scdoc -DSOURCE=tofu_group.3.scd -DPAGE=out/man3/tofu_group.3
#         -DVERSION=0.1.0 [-DALIASES=tofu_post,tofu_post_many,...] -P render.cmake
# Each alias is a page of its own name holding ".so man3/tofu_group.3", so
# that "man tofu_post" shows the page that declares tofu_post.
foreach(v SCDOC SOURCE PAGE VERSION)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "render.cmake: -D${v}= is missing")
  endif()
endforeach()

file(READ "${SOURCE}" text)
# scdoc drops the dot that starts a line ("..." would print as ".."):
# refuse such a line rather than lose a character silently.
string(REGEX MATCH "(^|\n)[ \t]*[.][^\n]*" dot_line "${text}")
if(dot_line)
  string(STRIP "${dot_line}" dot_line)
  message(FATAL_ERROR "${SOURCE}: a line starts with '.' (scdoc drops it); rewrap: ${dot_line}")
endif()
string(REPLACE "@TOFU_VERSION@" "${VERSION}" text "${text}")
file(WRITE "${PAGE}.scd" "${text}")
execute_process(COMMAND "${SCDOC}" INPUT_FILE "${PAGE}.scd" OUTPUT_VARIABLE roff
  ERROR_VARIABLE err RESULT_VARIABLE rc)
file(REMOVE "${PAGE}.scd")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "scdoc failed on ${SOURCE}: ${err}")
endif()
# scdoc asks for no hyphenation (.nh) before .TH, but the man macros turn it
# back on at .TH; names such as tofu_msg_set_body must not be split.
string(REGEX REPLACE "\n(\\.TH [^\n]*)\n" "\n\\1\n.nh\n" roff "${roff}")
file(WRITE "${PAGE}" "${roff}")

get_filename_component(dir "${PAGE}" DIRECTORY)
get_filename_component(dir_name "${dir}" NAME) # man3
get_filename_component(name "${PAGE}" NAME)    # tofu_group.3
string(REGEX MATCH "[^.]+$" section "${name}")
string(REPLACE "," ";" aliases "${ALIASES}")
foreach(fn IN LISTS aliases)
  file(WRITE "${dir}/${fn}.${section}" ".so ${dir_name}/${name}\n")
endforeach()
