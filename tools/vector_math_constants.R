# The constants of src/vector_math_core.h, computed with Rmpfr at 300 bits
# and printed as C99 hexadecimal doubles: ln 2 split into a 42-bit head
# (so k * head is exact for |k| < 2^11) and a tail, 1/ln 2, the Taylor
# coefficients 1/n! of exp, 2/(2j + 1) of 2 atanh(s) / s and 1/n of
# log(1 + r).
#
# With an argument, it writes the table of pow()'s logarithm instead, as C,
# to that file (src/vector_math_log_table.h):
#   Rscript tools/vector_math_constants.R            # the constants
#   Rscript tools/vector_math_constants.R src/vector_math_log_table.h
suppressMessages(library(Rmpfr))
bits <- 300
args <- commandArgs(trailingOnly = TRUE)

if (length(args) == 0L) {
  ln2 <- log(mpfr(2, bits))
  head <- asNumeric(roundMpfr(ln2, 42))
  cat(sprintf("LN2_HI  %a\n", head))
  cat(sprintf("LN2_LO  %a\n", asNumeric(ln2 - mpfr(head, bits))))
  cat(sprintf("INV_LN2 %a\n", asNumeric(1 / ln2)))
  for (n in 3:14)
    cat(sprintf("1/%d! %a\n", n, asNumeric(1 / factorial(mpfr(n, bits)))))
  for (j in 1:10)
    cat(sprintf("2/%d %a\n", 2 * j + 1, asNumeric(mpfr(2, bits) / (2 * j + 1))))
  for (n in 3:9)
    cat(sprintf("1/%d %a\n", n, asNumeric(mpfr(1, bits) / n)))
  quit(save = "no")
}

# pow()'s logarithm reduces x = 2^k z with z's bit pattern in [POW_OFF,
# POW_OFF + 2^52), POW_OFF = 0x3fe6900000000000 (z in [0.705078125,
# 1.41015625)), and splits that range into 128 intervals of 2^45 bit
# patterns each: interval i holds the z whose pattern minus POW_OFF, shifted
# right by 45, is i. Below 1 (exponent -1) each is 2^-8 wide, above 2^-7;
# the one holding 1, [1 - 2^-9, 1 + 2^-8), is number 75. In units of 2^44
# past 0x3fe0000000000000, interval i starts at 105 + 2 i.
start_of <- function(i) {
  m <- 105 + 2 * i
  ifelse(m < 256, 0.5 * (1 + m / 256), 1 + (m - 256) / 256)
}
entries <- lapply(0:127, function(i) {
  lower <- mpfr(start_of(i), bits)
  upper <- mpfr(start_of(i + 1), bits)
  # 1/c at the interval's centre, rounded to a double; exactly 1 on the
  # interval of 1, so that log(x) near 1 is r itself (no cancellation)
  inverse <- if (i == 75) 1 else asNumeric(2 / (lower + upper))
  log_c <- -log(mpfr(inverse, bits))
  log_hi <- asNumeric(log_c)
  c(inverse, log_hi, asNumeric(log_c - mpfr(log_hi, bits)))
})
table <- do.call(rbind, entries)
column <- function(name, j, comment) {
  values <- sprintf("%a", table[, j])
  values <- sub("^0x0p\\+0$", "0x0p+0", values)
  lines <- vapply(split(values, (seq_along(values) - 1) %/% 3), function(v)
    paste0("    ", paste(v, collapse = ", ")), "")
  c(sprintf("/* %s */", comment),
    sprintf("static const double %s[128] = {", name),
    paste0(lines, c(rep(",", length(lines) - 1), "")), "};", "")
}
out <- c(
  "/* Written by tools/vector_math_constants.R (Rmpfr, 300 bits): do not",
  "   edit. The table of pow()'s logarithm in vector_math_core.h: for each",
  "   of the 128 intervals of z (see the script), 1/c rounded to a double",
  "   (1 on the interval of 1) and -log(1/c) as a head and a tail. */",
  "",
  "#ifndef BIJECTORS_VECTOR_MATH_LOG_TABLE_H",
  "#define BIJECTORS_VECTOR_MATH_LOG_TABLE_H",
  "",
  column("POW_INV_C", 1, "1/c"),
  column("POW_LOG_C_HI", 2, "log(c) = -log(1/c), rounded"),
  column("POW_LOG_C_LO", 3, "log(c) minus its head"),
  "#endif")
writeLines(out, args[[1]])
