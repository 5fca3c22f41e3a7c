package dev.jround.kernel.calib;

import java.math.BigInteger;

/**
 * NumPy's default bit generator as {@code np.random.default_rng(seed)} builds it: a {@code SeedSequence}
 * hashes the seed into 128-bit state and increment for PCG64 (XSL-RR 128/64). Only what
 * {@code Generator.permutation(n)} needs is here; Hugging Face {@code Dataset.shuffle(seed)} orders rows
 * by exactly that permutation.
 */
public final class NumpyPcg64 {

    private static final BigInteger MASK128 = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);
    private static final long MULT_HI = 2549297995355413924L;
    private static final long MULT_LO = 4865540595714422341L;

    private long stateHi;
    private long stateLo;
    private final long incHi;
    private final long incLo;
    private boolean hasUint32;
    private int uint32;

    public NumpyPcg64(long seed) {
        this(BigInteger.valueOf(seed));
    }

    public NumpyPcg64(BigInteger seed) {
        if (seed.signum() < 0) {
            throw new IllegalArgumentException("NumPy seeds must be non-negative: " + seed);
        }
        long[] words = seedSequenceState(seed);
        BigInteger initState = u128(words[0], words[1]);
        BigInteger initSeq = u128(words[2], words[3]);
        BigInteger inc = initSeq.shiftLeft(1).or(BigInteger.ONE).and(MASK128);
        incHi = inc.shiftRight(64).longValue();
        incLo = inc.longValue();
        stateHi = 0;
        stateLo = 0;
        step();
        BigInteger s = u128(stateHi, stateLo).add(initState).and(MASK128);
        stateHi = s.shiftRight(64).longValue();
        stateLo = s.longValue();
        step();
    }

    private static BigInteger u128(long hi, long lo) {
        return new BigInteger(Long.toUnsignedString(hi)).shiftLeft(64).or(new BigInteger(Long.toUnsignedString(lo)));
    }

    /** {@code SeedSequence(seed).generate_state(4, uint64)}: pool of 4 words, then 8 output words read as 4 uint64. */
    static long[] seedSequenceState(BigInteger seed) {
        int entropyWords = Math.max(1, (seed.bitLength() + 31) / 32);
        int[] entropy = new int[entropyWords];
        for (int i = 0; i < entropyWords; i++) {
            entropy[i] = seed.shiftRight(32 * i).intValue();
        }
        int[] pool = new int[4];
        int[] hashConst = {0x43b0d7e5};
        for (int i = 0; i < pool.length; i++) {
            pool[i] = hashmix(i < entropy.length ? entropy[i] : 0, hashConst);
        }
        for (int src = 0; src < pool.length; src++) {
            for (int dst = 0; dst < pool.length; dst++) {
                if (src != dst) {
                    pool[dst] = mix(pool[dst], hashmix(pool[src], hashConst));
                }
            }
        }
        for (int src = pool.length; src < entropy.length; src++) {
            for (int dst = 0; dst < pool.length; dst++) {
                pool[dst] = mix(pool[dst], hashmix(entropy[src], hashConst));
            }
        }
        int hash = 0x8b51f9dd;
        int[] out32 = new int[8];
        for (int i = 0; i < out32.length; i++) {
            int v = pool[i % pool.length];
            v ^= hash;
            hash *= 0x58f38ded;
            v *= hash;
            v ^= v >>> 16;
            out32[i] = v;
        }
        long[] out = new long[4];
        for (int i = 0; i < 4; i++) {
            out[i] = (out32[2 * i] & 0xffffffffL) | ((long) out32[2 * i + 1] << 32);
        }
        return out;
    }

    private static int hashmix(int value, int[] hashConst) {
        value ^= hashConst[0];
        hashConst[0] *= 0x931e8875;
        value *= hashConst[0];
        value ^= value >>> 16;
        return value;
    }

    private static int mix(int x, int y) {
        int r = 0xca01f9dd * x - 0x4973f715 * y;
        r ^= r >>> 16;
        return r;
    }

    /** state = state * MULT + inc (mod 2^128). */
    private void step() {
        long lo = stateLo * MULT_LO;
        long hi = Math.multiplyHigh(stateLo, MULT_LO) + ((stateLo >> 63) & MULT_LO) + ((MULT_LO >> 63) & stateLo);
        hi += stateHi * MULT_LO + stateLo * MULT_HI;
        long newLo = lo + incLo;
        long carry = Long.compareUnsigned(newLo, lo) < 0 ? 1 : 0;
        stateHi = hi + incHi + carry;
        stateLo = newLo;
    }

    /** One 64-bit output: advance, then XSL-RR of the new state. */
    public long nextUint64() {
        step();
        long xored = stateHi ^ stateLo;
        int rot = (int) (stateHi >>> 58);
        return Long.rotateRight(xored, rot);
    }

    /** 32-bit outputs come from halves of a 64-bit output, low half first. */
    public long nextUint32() {
        if (hasUint32) {
            hasUint32 = false;
            return uint32 & 0xffffffffL;
        }
        long next = nextUint64();
        hasUint32 = true;
        uint32 = (int) (next >>> 32);
        return next & 0xffffffffL;
    }

    /** {@code random_interval(max)}: uniform in {@code [0, max]} by masked rejection. */
    long randomInterval(long max) {
        if (max == 0) {
            return 0;
        }
        long mask = max;
        mask |= mask >>> 1;
        mask |= mask >>> 2;
        mask |= mask >>> 4;
        mask |= mask >>> 8;
        mask |= mask >>> 16;
        mask |= mask >>> 32;
        long value;
        if (max <= 0xffffffffL) {
            do {
                value = nextUint32() & mask;
            } while (value > max);
        } else {
            do {
                value = nextUint64() & mask;
            } while (Long.compareUnsigned(value, max) > 0);
        }
        return value;
    }

    /**
     * {@code Generator.integers(0, high, size=count)} (int64, Lemire's bounded method over 32-bit draws,
     * as NumPy uses for ranges below 2^32).
     */
    public long[] integers(long high, int count) {
        if (high <= 0 || high > 0xffffffffL) {
            throw new IllegalArgumentException("high must be in 1..2^32-1: " + high);
        }
        long rng = high - 1;
        long[] out = new long[count];
        if (rng == 0) {
            return out;
        }
        long rngExcl = high;
        for (int i = 0; i < count; i++) {
            long m = nextUint32() * rngExcl;
            long leftover = m & 0xffffffffL;
            if (leftover < rngExcl) {
                long threshold = (0xffffffffL - rng) % rngExcl;
                while (leftover < threshold) {
                    m = nextUint32() * rngExcl;
                    leftover = m & 0xffffffffL;
                }
            }
            out[i] = m >>> 32;
        }
        return out;
    }

    /** In-place {@code Generator.shuffle} of a list: swap i with random_interval(i), i from the end down to 1. */
    void shuffle(int[] values) {
        for (int i = values.length - 1; i > 0; i--) {
            int j = (int) randomInterval(i);
            int t = values[i];
            values[i] = values[j];
            values[j] = t;
        }
    }

    /** {@code Generator.permutation(n)}: shuffle of {@code arange(n)}, swapping i with random_interval(i) from the end. */
    public int[] permutation(int n) {
        int[] values = PythonRandom.identity(n);
        shuffle(values);
        return values;
    }

    public static int[] permutation(int n, long seed) {
        return new NumpyPcg64(seed).permutation(n);
    }
}
