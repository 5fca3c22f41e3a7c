package dev.jround.kernel.config;

/**
 * User overrides on top of a preset ({@code --bits}, {@code --group_size}, {@code --sym}/{@code --asym},
 * {@code --data_type}, {@code --scale_dtype}, {@code --act_bits}); {@code null} means "not given".
 */
public record SchemeOverrides(Integer bits, Integer groupSize, Boolean sym, String dataType, String scaleDtype,
                              Integer actBits) {

    public static final SchemeOverrides NONE = new SchemeOverrides(null, null, null, null, null, null);

    public boolean any() {
        return bits != null || groupSize != null || sym != null || dataType != null || scaleDtype != null || actBits != null;
    }
}
