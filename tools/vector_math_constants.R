# The constants of src/vector_math_core.h, computed with Rmpfr at 300 bits
# and printed as C99 hexadecimal doubles: ln 2 split into a 42-bit head
# (so k * head is exact for |k| < 2^11) and a tail, 1/ln 2, the Taylor
# coefficients 1/n! of exp and 2/(2j + 1) of 2 atanh(s) / s.
# Usage: Rscript tools/vector_math_constants.R
suppressMessages(library(Rmpfr))
bits <- 300
ln2 <- log(mpfr(2, bits))
head <- asNumeric(roundMpfr(ln2, 42))
cat(sprintf("LN2_HI  %a\n", head))
cat(sprintf("LN2_LO  %a\n", asNumeric(ln2 - mpfr(head, bits))))
cat(sprintf("INV_LN2 %a\n", asNumeric(1 / ln2)))
for (n in 3:14)
  cat(sprintf("1/%d! %a\n", n, asNumeric(1 / factorial(mpfr(n, bits)))))
for (j in 1:10)
  cat(sprintf("2/%d %a\n", 2 * j + 1, asNumeric(mpfr(2, bits) / (2 * j + 1))))
