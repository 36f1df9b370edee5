/* The arithmetic of vector_math.c, written once over abstract operations
   and included by it for each path: with V = double (the portable path
   and the scalar fix-ups), V = __m256d (the AVX2 + FMA path) and V =
   __m512d (the AVX-512 path). All expansions do the same IEEE operations
   in the same order, so they give the same bits. Included only from vector_math.c, which defines, before
   each inclusion:
     V, I, M          the value type, a 64-bit integer type of the same
                      width (lanes) and the type of a comparison's mask
     NS(name)         the name of a function in this expansion
     ATTR             attributes of every function in it
     VSET(c), ISET(c) a constant in every lane
     VADD VSUB VMUL VDIV, VFMA(a, b, c) = a b + c, VFNMA(a, b, c) = c - a b,
     VFMS(a, b, c) = a b - c (the FMA forms round once)
     VMIN(a, b)       a < b ? a : b (NaN in a gives b)
     VABS, VEQ(a, b)  (a mask, of type M), VNAN(a) (a mask: a is NaN),
     VSEL(m, a, b)    m ? a : b lane by lane
     VLOOKUP(t, i)    t[i] lane by lane (i an I of indices)
     ASI, ASD         reinterpret a double as its bits and back
     IADD ISUB IAND IOR, ISRL(i, n) ISLL(i, n) (logical shifts)

   Where the constants come from: LN2_HI is ln 2 rounded to 42 significant
   bits (so k * LN2_HI is exact for |k| < 2^11), LN2_LO is ln 2 - LN2_HI
   rounded to a double, EXPn = 1/n! and LOGj = 2/(2j + 1) rounded to
   doubles; all computed with Rmpfr at 300 bits (tools/vector_math_constants.R).
   The polynomials are truncated Taylor series: on the reduced intervals
   their truncation errors are below 2^-59 relative (see each function). */

#define LN2_HI 0x1.62e42fefa38p-1
#define LN2_LO 0x1.ef35793c7673p-45
#define INV_LN2 0x1.71547652b82fep+0
/* adding it to |v| < 2^51 rounds v to an integer, kept in the low bits */
#define SHIFTER 0x1.8p52

/* ---- exp and expm1 ----------------------------------------------------- */

/* x = k ln 2 + r + rl with k = round(x / ln 2), |r| <= ln(2)/2 + 2^-40 and
   rl the part of r below r's last bit. Needs |x| < 2^10. */
ATTR static inline V NS(exp_reduce)(V x, V *r, V *rl)
{
    V k = VSUB(VFMA(x, VSET(INV_LN2), VSET(SHIFTER)), VSET(SHIFTER));
    /* exact: k * LN2_HI is exact and x and it agree in sign and exponent
       up to a factor of two (Sterbenz) */
    V rh = VFNMA(k, VSET(LN2_HI), x);
    V rr = VFNMA(k, VSET(LN2_LO), rh);
    /* |k LN2_LO| < 2^-33, so rh - rr is exact */
    *rl = VFNMA(k, VSET(LN2_LO), VSUB(rh, rr));
    *r = rr;
    return k;
}

/* 2^k for an integer-valued k in [-1022, 1023]: its bits built from
   those of k + SHIFTER + 1023, whose low 12 bits are k + 1023 */
ATTR static inline V NS(pow2)(V k)
{
    return ASD(ISLL(ASI(VADD(k, VSET(SHIFTER + 1023.0))), 52));
}

/* exp(r + rl) - 1 - r = r^2/2 + r^3 (1/3! + r/4! + ... + r^11/14!)
   + rl (1 + r)
   as th + tl, th = r^2/2 rounded (exactly half of r * r rounded) and tl
   the rest, r^2's rounding error included (an FMA gives it exactly); the
   series' truncation error is below r^15/15! < 2^-62 for |r| < 0.35 */
ATTR static inline V NS(exp_tail)(V r, V rl, V *tl)
{
    V q = VSET(0x1.93974a8c07c9dp-37);              /* 1/14! */
    q = VFMA(q, r, VSET(0x1.6124613a86d09p-33));    /* 1/13! */
    q = VFMA(q, r, VSET(0x1.1eed8eff8d898p-29));    /* 1/12! */
    q = VFMA(q, r, VSET(0x1.ae64567f544e4p-26));    /* 1/11! */
    q = VFMA(q, r, VSET(0x1.27e4fb7789f5cp-22));    /* 1/10! */
    q = VFMA(q, r, VSET(0x1.71de3a556c734p-19));    /* 1/9! */
    q = VFMA(q, r, VSET(0x1.a01a01a01a01ap-16));    /* 1/8! */
    q = VFMA(q, r, VSET(0x1.a01a01a01a01ap-13));    /* 1/7! */
    q = VFMA(q, r, VSET(0x1.6c16c16c16c17p-10));    /* 1/6! */
    q = VFMA(q, r, VSET(0x1.1111111111111p-7));     /* 1/5! */
    q = VFMA(q, r, VSET(0x1.5555555555555p-5));     /* 1/4! */
    q = VFMA(q, r, VSET(0x1.5555555555555p-3));     /* 1/3! */
    V r2 = VMUL(r, r);
    V r2e = VFMS(r, r, r2);                         /* r^2 - r2, exact */
    /* rl enters as exp(r) rl ~ rl + r rl */
    *tl = VFMA(r2, VMUL(r, q), VFMA(VSET(0.5), r2e, VFMA(r, rl, rl)));
    return VMUL(VSET(0.5), r2);
}

/* exp(r + rl) = hi + lo in [0.7, 1.42] to about 2^-60 relative */
ATTR static inline void NS(exp_join)(V r, V rl, V *hi, V *lo)
{
    V tl;
    V th = NS(exp_tail)(r, rl, &tl);
    V a = VADD(VSET(1.0), r);
    /* the rounding error of 1 + r, exact as |r| < 1 */
    V e = VADD(VSUB(VSET(1.0), a), r);
    *hi = a;
    *lo = VADD(e, VADD(th, tl));
}

/* exp(x) = (hi + lo) 2^k, hi + lo in [0.7, 1.42] to about 2^-60
   relative; returns k. |x| < 2^10. */
ATTR static inline V NS(exp_parts)(V x, V *hi, V *lo)
{
    V r, rl;
    V k = NS(exp_reduce)(x, &r, &rl);
    NS(exp_join)(r, rl, hi, lo);
    return k;
}

/* exp(x) for |x| <= 708 (a normal result, one scaling) */
ATTR static inline V NS(exp_hot)(V x)
{
    V hi, lo;
    V k = NS(exp_parts)(x, &hi, &lo);
    return VMUL(VADD(hi, lo), NS(pow2)(k));
}

/* expm1(x) = hi + lo to about 2^-100 relative, for |x| <= 708:
   2^k (1 + u) - 1 = 2^k u + (2^k - 1), summed with the rounding errors
   kept, u = exp(r + rl) - 1 as a double-double */
ATTR static inline void NS(expm1_join)(V k, V r, V rl, V *hi, V *lo)
{
    V tl;
    V th = NS(exp_tail)(r, rl, &tl);
    /* u = r + th + tl as uh + ul, |ul| <= ulp(uh): two fast two-sums
       (|tl| < |th| < |r| / 5) */
    V p = VADD(th, tl);
    V pe = VADD(VSUB(th, p), tl);
    V uh = VADD(r, p);
    V ul = VADD(VADD(VSUB(r, uh), p), pe);
    V s = NS(pow2)(k);
    V ah = VMUL(uh, s), al = VMUL(ul, s);
    /* 2^k - 1 = b + be (a two-sum: b is inexact for k < -53, k > 53) */
    V b = VSUB(s, VSET(1.0));
    V bs = VSUB(b, s);
    V be = VSUB(VSUB(s, VSUB(b, bs)), VADD(VSET(1.0), bs));
    V h = VADD(b, ah);                  /* two-sum: h + e = b + ah */
    V bb = VSUB(h, b);
    V e = VADD(VSUB(b, VSUB(h, bb)), VSUB(ah, bb));
    *hi = h;
    *lo = VADD(e, VADD(al, be));
}

ATTR static inline void NS(expm1_pair)(V x, V *hi, V *lo)
{
    V r, rl;
    V k = NS(exp_reduce)(x, &r, &rl);
    NS(expm1_join)(k, r, rl, hi, lo);
}

ATTR static inline V NS(expm1_hot)(V x)
{
    V hi, lo;
    NS(expm1_pair)(x, &hi, &lo);
    /* expm1(-0) = -0 */
    return VSEL(VEQ(x, VSET(0.0)), x, VADD(hi, lo));
}

/* tanh(x) = sign(x) u / (u + 2), u = expm1(2 |x|) as hi + lo, the
   quotient corrected once with its exact residual; |x| clamped at 22,
   where tanh rounds to 1 */
ATTR static inline V NS(tanh_hot)(V x)
{
    V a = VMIN(VABS(x), VSET(22.0));
    V h, l;
    NS(expm1_pair)(VADD(a, a), &h, &l);
    V dh = VADD(h, VSET(2.0));          /* two-sum: dh + de = h + 2 */
    V bb = VSUB(dh, h);
    V de = VADD(VSUB(h, VSUB(dh, bb)), VSUB(VSET(2.0), bb));
    V dl = VADD(de, l);
    V rcp = VDIV(VSET(1.0), dh);
    V q = VMUL(h, rcp);
    V rho = VFNMA(q, dh, h);            /* h - q dh */
    rho = VFNMA(q, dl, VADD(rho, l));   /* + l - q dl */
    V t = VFMA(rho, rcp, q);
    V signed_t = ASD(IOR(ASI(t), IAND(ASI(x), ISET(0x8000000000000000ULL))));
    return VSEL(VNAN(x), x, signed_t);
}

/* ---- log and log1p ----------------------------------------------------- */

/* x = 2^k m, m in [sqrt(1/2), sqrt(2)), for positive normal finite x;
   returns k, f = m - 1 (exact) */
ATTR static inline V NS(log_reduce)(V x, V *f)
{
    I ix = ASI(x);
    /* adding 1.0's bits minus sqrt(1/2)'s carries into the exponent field
       exactly when m >= sqrt(1/2) */
    I t = IADD(ix, ISET(0x3ff0000000000000ULL - 0x3fe6a09e667f3bcdULL));
    I top = IAND(t, ISET(0xfff0000000000000ULL));
    V m = ASD(IADD(ISUB(ix, top), ISET(0x3ff0000000000000ULL)));
    /* the biased exponent (< 2^12) as a double through 2^52's bits */
    V k = VSUB(ASD(IOR(ISRL(t, 52), ISET(0x4330000000000000ULL))),
               VSET(0x1p52 + 1023.0));
    *f = VSUB(m, VSET(1.0));
    return k;
}

/* k ln 2 + log(1 + f) + c, for |f| < 0.42 and c a small correction.
   log(1 + f) = 2 atanh(s), s = f / (2 + f), |s| < 0.172, written as
   f - f^2/2 + s (f^2/2 + R), R = sum_j 2 s^(2j) / (2j + 1), j = 1..10
   (truncation error below 2^-62 relative) */
ATTR static inline V NS(log_finish)(V k, V f, V c)
{
    V s = VDIV(f, VADD(VSET(2.0), f));
    V z = VMUL(s, s);
    V R = VSET(0x1.8618618618618p-4);               /* 2/21 */
    R = VFMA(R, z, VSET(0x1.af286bca1af28p-4));     /* 2/19 */
    R = VFMA(R, z, VSET(0x1.e1e1e1e1e1e1ep-4));     /* 2/17 */
    R = VFMA(R, z, VSET(0x1.1111111111111p-3));     /* 2/15 */
    R = VFMA(R, z, VSET(0x1.3b13b13b13b14p-3));     /* 2/13 */
    R = VFMA(R, z, VSET(0x1.745d1745d1746p-3));     /* 2/11 */
    R = VFMA(R, z, VSET(0x1.c71c71c71c71cp-3));     /* 2/9 */
    R = VFMA(R, z, VSET(0x1.2492492492492p-2));     /* 2/7 */
    R = VFMA(R, z, VSET(0x1.999999999999ap-2));     /* 2/5 */
    R = VFMA(R, z, VSET(0x1.5555555555555p-1));     /* 2/3 */
    R = VMUL(R, z);
    /* f^2/2 = hfsq + hfe exactly */
    V f2 = VMUL(f, f);
    V hfsq = VMUL(VSET(0.5), f2);
    V hfe = VMUL(VSET(0.5), VFMS(f, f, f2));
    V small = VMUL(s, VADD(hfsq, R));
    /* (k LN2_HI + f) - hfsq by two fast two-sums (k LN2_HI is exact and
       0 or larger than |f|, and |f| > hfsq), the rest added to their
       errors */
    V A = VMUL(k, VSET(LN2_HI));
    V S1 = VADD(A, f);
    V E1 = VADD(VSUB(A, S1), f);
    V S2 = VSUB(S1, hfsq);
    V E2 = VSUB(VSUB(S1, S2), hfsq);
    V tail = VADD(VADD(E1, E2),
                  VADD(VSUB(small, hfe), VFMA(k, VSET(LN2_LO), c)));
    return VADD(S2, tail);
}

/* log(x) for positive normal finite x */
ATTR static inline V NS(log_hot)(V x)
{
    V f;
    V k = NS(log_reduce)(x, &f);
    return NS(log_finish)(k, f, VSET(0.0));
}

/* log1p(x) for -1 < x < Inf: 1 + x = uh + ul exactly (two-sum); when
   uh is within [sqrt(1/2), sqrt(2)), f = x exactly, else f = m - 1 and
   log(1 + ul / uh) ~ ul / uh is added */
ATTR static inline V NS(log1p_hot)(V x)
{
    V uh = VADD(VSET(1.0), x);
    V bb = VSUB(uh, VSET(1.0));
    V ul = VADD(VSUB(VSET(1.0), VSUB(uh, bb)), VSUB(x, bb));
    V fm;
    V k = NS(log_reduce)(uh, &fm);
    M k0 = VEQ(k, VSET(0.0));
    V f = VSEL(k0, x, fm);
    V c = VSEL(k0, VSET(0.0), VDIV(ul, uh));
    V y = NS(log_finish)(k, f, c);
    /* log1p(-0) = -0 */
    return VSEL(VEQ(x, VSET(0.0)), x, y);
}

/* ---- pow and powm1 -------------------------------------------------------
   x^e = exp(e log x), with log x to about 2^-68 relative as a double-double
   (a table of 128 intervals, vector_math_log_table.h), its product with e
   kept exactly as ph + pl, and exp(ph + pl) with pl folded into the
   reduction: an error in e log x of d gives a relative error d in x^e, and
   |e log x| is up to 745, so log x needs about 2^-63 relative for 0.1 ulp.
   For positive normal finite x and |ph| <= 708. */

/* bits of z's lower bound 0.705078125: 2^-45's multiples start each
   interval, and 1 lies in the middle of interval 75 */
#define POW_OFF 0x3fe6900000000000ULL

/* x = 2^k z, z in [0.705078125, 1.41015625), and z's interval *i */
ATTR static inline V NS(pow_reduce)(V x, V *z, I *i)
{
    I ix = ASI(x);
    I t = IADD(ix, ISET(0x3ff0000000000000ULL - POW_OFF));
    I top = IAND(t, ISET(0xfff0000000000000ULL));
    I iz = IADD(ISUB(ix, top), ISET(0x3ff0000000000000ULL));
    *z = ASD(iz);
    *i = ISRL(ISUB(iz, ISET(POW_OFF)), 45);
    return VSUB(ASD(IOR(ISRL(t, 52), ISET(0x4330000000000000ULL))),
                VSET(0x1p52 + 1023.0));
}

/* log(2^k z) + c = hi + *lo, c a small correction (the base's low part
   over its high part). With 1/c from the table, z/c = 1 + r, r = rh + rl
   exactly, |r| < 2^-8, and log(1 + r) = r - r^2/2 + r^3 (1/3 - r/4 + ...
   + r^6/9) + rl (1 - r): truncation below 2^-72 relative to r. */
ATTR static inline V NS(pow_log)(V k, V z, I i, V c, V *lo)
{
    V inv = VLOOKUP(POW_INV_C, i);
    V lch = VLOOKUP(POW_LOG_C_HI, i);
    V lcl = VLOOKUP(POW_LOG_C_LO, i);
    V p = VMUL(z, inv);
    V pe = VFMS(z, inv, p);                 /* z inv - p, exact */
    V d = VSUB(p, VSET(1.0));               /* exact: p in [0.99, 1.01] */
    /* fast two-sum: d is 0 or at least ulp(p) > |pe| */
    V rh = VADD(d, pe);
    V rl = VADD(VSUB(d, rh), pe);
    V q = VSET(0x1.c71c71c71c71cp-4);               /* 1/9 */
    q = VFMA(q, rh, VSET(-0x1p-3));                 /* -1/8 */
    q = VFMA(q, rh, VSET(0x1.2492492492492p-3));    /* 1/7 */
    q = VFMA(q, rh, VSET(-0x1.5555555555555p-3));   /* -1/6 */
    q = VFMA(q, rh, VSET(0x1.999999999999ap-3));    /* 1/5 */
    q = VFMA(q, rh, VSET(-0x1p-2));                 /* -1/4 */
    q = VFMA(q, rh, VSET(0x1.5555555555555p-2));    /* 1/3 */
    V r2 = VMUL(rh, rh);
    V cube = VMUL(VMUL(r2, rh), q);
    V hr2 = VMUL(VSET(0.5), r2);
    V hr2e = VMUL(VSET(0.5), VFMS(rh, rh, r2));     /* r^2/2 - hr2, exact */
    /* k ln2_hi + log c + rh - hr2 by three two-sums: the first two fast
       (k ln2_hi is 0 or larger than |log c|; the last term is smaller
       than what it is added to), the middle one full */
    V A = VMUL(k, VSET(LN2_HI));
    V S1 = VADD(A, lch);
    V E1 = VADD(VSUB(A, S1), lch);
    V S2 = VADD(S1, rh);
    V bb = VSUB(S2, S1);
    V E2 = VADD(VSUB(S1, VSUB(S2, bb)), VSUB(rh, bb));
    V S3 = VSUB(S2, hr2);
    V E3 = VSUB(VSUB(S2, S3), hr2);
    V tail = VADD(VSUB(cube, hr2e), VFNMA(rl, rh, rl));
    tail = VADD(tail, VADD(VFMA(k, VSET(LN2_LO), lcl), c));
    tail = VADD(tail, VADD(VADD(E1, E2), E3));
    V hi = VADD(S3, tail);
    *lo = VADD(VSUB(S3, hi), tail);
    return hi;
}

/* (lh + ll)(eh + el) = ph + *pl, to about 2^-104 relative */
ATTR static inline V NS(pow_product)(V lh, V ll, V eh, V el, V *pl)
{
    V ph = VMUL(lh, eh);
    V pe = VFMS(lh, eh, ph);                /* exact */
    *pl = VADD(pe, VFMA(lh, el, VMUL(ll, eh)));
    return ph;
}

/* x = k ln 2 + r + rl as exp_reduce(), for x = xh + xl, |xl| <= 2^-40
   |xh| or so: xl joins xh - k LN2_HI (exact) by a two-sum before LN2_LO
   is taken off, so that rl stays below r's last bit. |xh| < 2^10. */
ATTR static inline V NS(exp_reduce_dd)(V xh, V xl, V *r, V *rl)
{
    V k = VSUB(VFMA(xh, VSET(INV_LN2), VSET(SHIFTER)), VSET(SHIFTER));
    V rh = VFNMA(k, VSET(LN2_HI), xh);
    V a = VADD(rh, xl);
    V bb = VSUB(a, rh);
    V ae = VADD(VSUB(rh, VSUB(a, bb)), VSUB(xl, bb));
    V rr = VFNMA(k, VSET(LN2_LO), a);
    *rl = VADD(VFNMA(k, VSET(LN2_LO), VSUB(a, rr)), ae);
    *r = rr;
    return k;
}

/* e log(x + xl) = ph + *pl for positive normal finite x; c = xl / x */
ATTR static inline V NS(pow_exponent)(V x, V c, V eh, V el, V *pl)
{
    V z, ll;
    I i;
    V k = NS(pow_reduce)(x, &z, &i);
    V lh = NS(pow_log)(k, z, i, c, &ll);
    return NS(pow_product)(lh, ll, eh, el, pl);
}

/* (hi + lo)(sh + sl) rounded once (to about 2^-104 before it) */
ATTR static inline V NS(scale_dd)(V hi, V lo, V sh, V sl)
{
    V p = VMUL(hi, sh);
    V pe = VFMS(hi, sh, p);                 /* exact */
    return VADD(p, VADD(pe, VFMA(lo, sh, VMUL(hi, sl))));
}

/* s exp(ph + pl) for |ph| <= 708, s = sh + sl (one more rounding where
   the result is subnormal) */
ATTR static inline V NS(pow_finish)(V ph, V pl, V sh, V sl)
{
    V r, rl, hi, lo;
    V k = NS(exp_reduce_dd)(ph, pl, &r, &rl);
    NS(exp_join)(r, rl, &hi, &lo);
    return VMUL(NS(scale_dd)(hi, lo, sh, sl), NS(pow2)(k));
}

/* s (exp(ph + pl) - 1) for |ph| <= 708 */
ATTR static inline V NS(powm1_finish)(V ph, V pl, V sh, V sl)
{
    V r, rl, hi, lo;
    V k = NS(exp_reduce_dd)(ph, pl, &r, &rl);
    NS(expm1_join)(k, r, rl, &hi, &lo);
    return NS(scale_dd)(hi, lo, sh, sl);
}

/* ---- 1 + c x as a double-double -------------------------------------------
   1 + c x = hi + *lo to about 2^-104 (vector_math.h): c x by an FMA's
   exact product error, then a two-sum with 1, renormalised so that
   |lo| <= ulp(hi)/2 also next to c x = -1, where the sum cancels. */
ATTR static inline V NS(one_plus_product)(V x, V c, V *lo)
{
    V p = VMUL(c, x);
    V pe = VFMS(c, x, p);
    V s = VADD(VSET(1.0), p);
    V bb = VSUB(s, VSET(1.0));
    V e = VADD(VADD(VSUB(VSET(1.0), VSUB(s, bb)), VSUB(p, bb)), pe);
    V hi = VADD(s, e);
    *lo = VSUB(e, VSUB(hi, s));
    return hi;
}
