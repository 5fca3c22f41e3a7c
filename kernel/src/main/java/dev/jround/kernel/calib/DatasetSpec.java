package dev.jround.kernel.calib;

import java.util.List;
import java.util.Map;

/**
 * A parsed calibration spec string: its entries in order.
 *
 * @param text    the spec as parsed (after space removal, when that applied)
 * @param entries one per comma-separated item
 */
public record DatasetSpec(String text, List<Entry> entries) {

    public DatasetSpec {
        entries = List.copyOf(entries);
    }

    /**
     * One item of the spec.
     *
     * @param raw               the item as written, e.g. {@code mbpp:num=128}
     * @param name              the dataset name or local path (text before the first {@code :})
     * @param num               {@code num=N}, or {@code null}
     * @param splits            {@code split=a+b}, or an empty list
     * @param concat            {@code concat} given and not {@code false}
     * @param applyChatTemplate {@code apply_chat_template} given and not {@code false}, or a system prompt set here
     * @param systemPrompt      the system prompt in force for this item (carried over from earlier items)
     */
    public record Entry(String raw, String name, Integer num, List<String> splits, boolean concat,
                        boolean applyChatTemplate, String systemPrompt) {

        public Entry {
            splits = List.copyOf(splits);
        }

        /** The parameters as a dataset provider receives them. */
        public Map<String, String> providerParams() {
            var m = new java.util.LinkedHashMap<String, String>();
            if (!splits.isEmpty()) {
                m.put(dev.jround.spi.data.DatasetProvider.SPLIT, String.join("+", splits));
            }
            if (num != null) {
                m.put(dev.jround.spi.data.DatasetProvider.NUM, Integer.toString(num));
            }
            m.put(dev.jround.spi.data.DatasetProvider.CONCAT, Boolean.toString(concat));
            m.put(dev.jround.spi.data.DatasetProvider.CHAT_TEMPLATE, Boolean.toString(applyChatTemplate));
            if (systemPrompt != null) {
                m.put(dev.jround.spi.data.DatasetProvider.SYSTEM_PROMPT, systemPrompt);
            }
            return Map.copyOf(m);
        }
    }
}
