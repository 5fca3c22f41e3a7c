package dev.jround.spi.quant;

import java.util.Objects;

/**
 * What a scheme preset implies beyond its {@link QuantScheme} fields, declared by its {@link SchemePreset} plugin.
 * Built with {@link #builder()} so that later traits can be added without breaking plugins.
 */
public final class PresetTraits {

    /** When the run collects an importance matrix for optimized RTN (iters 0, opt-RTN on). */
    public enum ImportanceMatrix {
        /** Always, symmetric or not (GGUF k-quants: their scale/min search is importance-weighted). */
        ALWAYS,
        /** Whenever the scheme is symmetric (AutoRound's rule for its {@code W*} presets). */
        WHEN_SYMMETRIC,
        /** Only when the scheme's own fields ask for it (symmetric int below 8 bits). */
        BY_SCHEME
    }

    /** A preset with no traits: overridable, no format of its own, imatrix by scheme, not the default. */
    public static final PresetTraits NONE = builder().build();

    private final String family;
    private final boolean fixed;
    private final String format;
    private final ImportanceMatrix importanceMatrix;
    private final boolean isDefault;

    private PresetTraits(Builder b) {
        this.family = b.family;
        this.fixed = b.fixed;
        this.format = b.format;
        this.importanceMatrix = b.importanceMatrix;
        this.isDefault = b.isDefault;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The family's name for messages (e.g. "scheme X is a FAMILY preset"), empty when none. */
    public String family() {
        return family;
    }

    /**
     * Whether the preset is a complete recipe that its format lays out per tensor: --bits/--group_size/--sym/
     * --data_type are ignored, and the kernel's lm_head and shape fallbacks do not apply.
     */
    public boolean fixed() {
        return fixed;
    }

    /** The {@code --format} value that selects this preset over {@code --scheme}, empty when none. */
    public String format() {
        return format;
    }

    public ImportanceMatrix importanceMatrix() {
        return importanceMatrix;
    }

    /** Whether a run without {@code --scheme} uses this preset. */
    public boolean isDefault() {
        return isDefault;
    }

    @Override
    public String toString() {
        return "PresetTraits[family=" + family + ", fixed=" + fixed + ", format=" + format + ", importanceMatrix="
                + importanceMatrix + ", default=" + isDefault + "]";
    }

    public static final class Builder {
        private String family = "";
        private boolean fixed;
        private String format = "";
        private ImportanceMatrix importanceMatrix = ImportanceMatrix.BY_SCHEME;
        private boolean isDefault;

        private Builder() {
        }

        public Builder family(String family) {
            this.family = Objects.requireNonNull(family, "family");
            return this;
        }

        public Builder fixed(boolean fixed) {
            this.fixed = fixed;
            return this;
        }

        public Builder format(String format) {
            this.format = Objects.requireNonNull(format, "format");
            return this;
        }

        public Builder importanceMatrix(ImportanceMatrix importanceMatrix) {
            this.importanceMatrix = Objects.requireNonNull(importanceMatrix, "importanceMatrix");
            return this;
        }

        public Builder isDefault(boolean isDefault) {
            this.isDefault = isDefault;
            return this;
        }

        public PresetTraits build() {
            return new PresetTraits(this);
        }
    }
}
