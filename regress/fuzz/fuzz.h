/*
 * Shared by the libFuzzer harnesses (regress/fuzz/fuzz_*.c): each
 * defines LLVMFuzzerTestOneInput and feeds the bytes to one parser or
 * decoder that reads untrusted input.  The harnesses check what must
 * hold whatever the input (results in range, strings terminated, a
 * round trip giving back what was parsed) and abort when it does not,
 * so that the fuzzer reports it like a crash.
 */
#ifndef REGRESS_FUZZ_H
#define REGRESS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Aborts, naming the harness's broken expectation. */
#define FUZZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
		abort();						\
	}								\
} while (0)

/*
 * The input as a C string in a buffer of its exact size, so that ASan
 * sees a read past the NUL; a NUL in the input ends the string early.
 */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The first byte as a selector, taken off the input; 0 when empty. */
static inline unsigned int
fuzz_byte(const uint8_t **data, size_t *size)
{
	unsigned int	 b;

	if (*size == 0)
		return 0;
	b = **data;
	(*data)++;
	(*size)--;
	return b;
}

#endif
