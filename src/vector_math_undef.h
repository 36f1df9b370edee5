/* Ends one expansion of vector_math_core.h: the lane-type and operation
   macros a path defined before including it, so the next path can define
   its own. Included between the paths in vector_math.c (no include
   guard, on purpose). */
#undef V
#undef I
#undef M
#undef VSET
#undef ISET
#undef VADD
#undef VSUB
#undef VMUL
#undef VDIV
#undef VFMA
#undef VFNMA
#undef VFMS
#undef VMIN
#undef VABS
#undef VEQ
#undef VNAN
#undef VSEL
#undef ASI
#undef ASD
#undef IADD
#undef ISUB
#undef IAND
#undef IOR
#undef ISRL
#undef ISLL
#undef VLOOKUP
