package dev.jround.kernel.config;

/**
 * User overrides on top of a preset ({@code --bits}, {@code --group_size}, {@code --sym}/{@code --asym},
 * {@code --data_type}, {@code --scale_dtype}, {@code --act_bits}, {@code --act_group_size}, {@code --act_sym},
 * {@code --act_data_type}, {@code --act_dynamic}); {@code null} means "not given".
 */
public record SchemeOverrides(Integer bits, Integer groupSize, Boolean sym, String dataType, String scaleDtype,
                              Integer actBits, Integer actGroupSize, Boolean actSym, String actDataType,
                              Boolean actDynamic) {

    public static final SchemeOverrides NONE = new SchemeOverrides(null, null, null, null, null, null);

    /** Weight overrides and activation bits only. */
    public SchemeOverrides(Integer bits, Integer groupSize, Boolean sym, String dataType, String scaleDtype, Integer actBits) {
        this(bits, groupSize, sym, dataType, scaleDtype, actBits, null, null, null, null);
    }

    public boolean any() {
        return bits != null || groupSize != null || sym != null || dataType != null || scaleDtype != null || actBits != null
                || actGroupSize != null || actSym != null || actDataType != null || actDynamic != null;
    }
}
