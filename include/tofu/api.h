/* tofu — what marks a function as part of the public API.
 *
 * The library is built with hidden symbols by default; TOFU_API makes a
 * public function visible from the shared library (and exported from the
 * DLL on Windows). Internal functions stay out of the shared library's
 * symbol table. */
#ifndef TOFU_API_H
#define TOFU_API_H

#if defined(_WIN32)
#if defined(TOFU_BUILDING)
#define TOFU_API __declspec(dllexport)
#else
#define TOFU_API /* MinGW imports DLL functions without dllimport */
#endif
#elif defined(__GNUC__)
#define TOFU_API __attribute__((visibility("default")))
#else
#define TOFU_API
#endif

#endif /* TOFU_API_H */
