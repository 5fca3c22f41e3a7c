package dev.jround.spi.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An architecture's declaration of its checkpoint: the role of every tensor name and the model's facts. Exporters
 * map roles (not names) to their format, so a new architecture plugin makes every role-mapping exporter work
 * without editing it.
 */
public interface TensorLayout {

    ArchitectureFacts facts();

    /** Where the checkpoint tensor {@code name} sits, or empty when it is not one of this architecture's tensors. */
    Optional<TensorSlot> slotOf(String name);

    /**
     * A layout from module paths: a tensor {@code <module>.weight} / {@code .bias} (any other last component is a
     * buffer) takes the role of its module. Model-level modules are matched whole, block modules as
     * {@code <blockPrefix>.<index>.<module>} with {@code index < facts.blockCount()}.
     */
    static Builder builder(ArchitectureFacts facts) {
        return new Builder(facts);
    }

    /** Collects module-path declarations; see {@link TensorLayout#builder}. */
    final class Builder {

        private final ArchitectureFacts facts;
        private final Map<String, TensorRole> global = new LinkedHashMap<>();
        private final Map<String, TensorRole> inBlock = new LinkedHashMap<>();
        private final List<String> blockPrefixes = new ArrayList<>();

        private Builder(ArchitectureFacts facts) {
            this.facts = facts;
        }

        /** A model-level module, e.g. {@code model.embed_tokens} as {@link TensorRole#TOKEN_EMBD}. */
        public Builder model(String module, TensorRole role) {
            if (role.perBlock()) {
                throw new IllegalArgumentException(role + " is a per-block role");
            }
            global.put(module, role);
            return this;
        }

        /** Where blocks live, e.g. {@code model.layers}; several prefixes may name the same blocks. */
        public Builder blocks(String prefix) {
            blockPrefixes.add(prefix + ".");
            return this;
        }

        /** A module inside each block, e.g. {@code self_attn.q_proj} as {@link TensorRole#ATTN_Q}. */
        public Builder block(String module, TensorRole role) {
            if (!role.perBlock() || role.perExpert()) {
                throw new IllegalArgumentException(role + " is not a per-block role without experts");
            }
            inBlock.put(module, role);
            return this;
        }

        public TensorLayout build() {
            Map<String, TensorRole> g = Map.copyOf(global);
            Map<String, TensorRole> b = Map.copyOf(inBlock);
            List<String> prefixes = List.copyOf(blockPrefixes);
            ArchitectureFacts f = facts;
            return new TensorLayout() {
                @Override
                public ArchitectureFacts facts() {
                    return f;
                }

                @Override
                public Optional<TensorSlot> slotOf(String name) {
                    int dot = name.lastIndexOf('.');
                    if (dot <= 0) {
                        return Optional.empty();
                    }
                    String module = name.substring(0, dot);
                    String param = name.substring(dot + 1);
                    TensorSlot.Part part = switch (param) {
                        case "weight" -> TensorSlot.Part.WEIGHT;
                        case "bias" -> TensorSlot.Part.BIAS;
                        default -> TensorSlot.Part.BUFFER;
                    };
                    TensorRole role = g.get(module);
                    if (role != null) {
                        return Optional.of(TensorSlot.of(role, -1, part));
                    }
                    for (String p : prefixes) {
                        if (!module.startsWith(p)) {
                            continue;
                        }
                        int end = module.indexOf('.', p.length());
                        if (end < 0) {
                            continue;
                        }
                        int block = blockIndex(module.substring(p.length(), end));
                        role = b.get(module.substring(end + 1));
                        if (block >= 0 && block < f.blockCount() && role != null) {
                            return Optional.of(TensorSlot.of(role, block, part));
                        }
                    }
                    return Optional.empty();
                }
            };
        }

        private static int blockIndex(String s) {
            if (s.isEmpty() || s.length() > 9) {
                return -1;
            }
            for (int i = 0; i < s.length(); i++) {
                if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                    return -1;
                }
            }
            // "03" is not how any checkpoint numbers its blocks
            return s.length() > 1 && s.charAt(0) == '0' ? -1 : Integer.parseInt(s);
        }
    }
}
