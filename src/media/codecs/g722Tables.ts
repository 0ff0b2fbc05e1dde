/** Constant tables of ITU-T G.722 (SB-ADPCM, 64 kbit/s mode), named as in the Recommendation. */

/** Low-band quantiser decision levels (QUANTL), scaled by 8. */
export const Q6 = [
  0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219,
  1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0,
] as const;
/** 6-bit low-band codes for negative and positive differences, by quantiser interval. */
export const ILN = [
  0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7,
  6, 5, 4, 0,
] as const;
export const ILP = [
  0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36,
  35, 34, 33, 32, 0,
] as const;
/** Log-scale factor multipliers (LOGSCL) by 4-bit quantiser magnitude. */
export const WL = [-60, -30, 58, 172, 334, 538, 1198, 3042] as const;
export const RL42 = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0] as const;
/** Inverse log table for the scale factor (SCALEL/SCALEH). */
export const ILB = [
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960,
  3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
] as const;
/** Inverse quantiser outputs: 4-bit (predictor update), 6-bit (64 kbit/s low band), 2-bit high band. */
export const QM4 = [
  0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
] as const;
export const QM6 = [
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360,
  -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688,
  -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192,
  6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432,
  -136,
] as const;
export const QM2 = [-7408, -1616, 7408, 1616] as const;
/** High-band codes and log-scale multipliers. */
export const IHN = [0, 1, 0] as const;
export const IHP = [0, 3, 2] as const;
export const WH = [0, -214, 798] as const;
export const RH2 = [2, 1, 2, 1] as const;
/** The 24-tap QMF, given as its 12 distinct coefficients (the filter is symmetric). */
export const QMF_COEFFICIENTS = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11] as const;
