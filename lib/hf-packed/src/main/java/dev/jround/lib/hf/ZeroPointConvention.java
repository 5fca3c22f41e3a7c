package dev.jround.lib.hf;

/** How GPTQ-layout {@code qzeros} store a zero point {@code z}. */
public enum ZeroPointConvention {
    /** AutoGPTQ / vLLM GPTQ / {@code auto_round:auto_gptq}: stored {@code (z - 1) mod 2^b}, decoded as stored + 1. */
    V1,
    /** {@code auto_round} native / {@code auto_round:gptqmodel} / GPTQModel {@code gptq_v2}: stored as is. */
    V2;

    public int store(int zero, int bits) {
        int mask = (1 << bits) - 1;
        return this == V1 ? (zero - 1) & mask : zero & mask;
    }

    /** The zero point a consumer uses for a stored field; V1 can yield {@code 2^b} for a stored all-ones field. */
    public int load(int stored, int bits) {
        return this == V1 ? stored + 1 : stored;
    }
}
