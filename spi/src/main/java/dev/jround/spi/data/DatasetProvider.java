package dev.jround.spi.data;

import dev.jround.spi.JroundPlugin;

import java.util.List;
import java.util.Map;

/**
 * Turns one item of a dataset spec string (a name or a local path, with its parameters) into raw
 * calibration records. Tokenisation, filtering, concatenation and sampling are done by the kernel,
 * identically for every source.
 */
public interface DatasetProvider extends JroundPlugin {

    /** Whether this provider serves the item (e.g. a file extension, a registered dataset name). */
    boolean accepts(String nameOrPath);

    /**
     * Loads the records of one item.
     *
     * @param params the item's {@code key=value} parameters (split, num, ...)
     * @param ctx    access to the tokenizer, the model (for self-generation) and settings
     */
    List<CalibrationRecord> load(String nameOrPath, Map<String, String> params, DatasetContext ctx);
}
