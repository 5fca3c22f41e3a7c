package dev.jround.plugin.dataset.files;

import blue.strategic.parquet.ParquetReader;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.MessageColumnIO;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a Parquet file into plain Java rows (column name to String / Long / Double / Boolean / List / Map),
 * nested lists and structs included (the {@code messages} column of chat datasets). Uses parquet-java's
 * record assembly through parquet-floor's Hadoop-free file access; only the columns asked for are read.
 * Shared by the local-file and the Hugging Face provider of this plugin (a hub dataset is a local
 * Parquet file once cached).
 */
public final class ParquetRows {

    private ParquetRows() {
    }

    /** Rows of {@code file}, with at most {@code limit} rows, keeping the named top-level columns (all if empty). */
    public static List<Map<String, Object>> read(Path file, List<String> columns, int limit) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        try (ParquetFileReader reader = ParquetFileReader.open(ParquetReader.makeInputFile(file.toFile()))) {
            MessageType schema = reader.getFooter().getFileMetaData().getSchema();
            MessageType projection = schema;
            if (!columns.isEmpty()) {
                List<Type> keep = new ArrayList<>();
                for (Type t : schema.getFields()) {
                    if (columns.contains(t.getName())) {
                        keep.add(t);
                    }
                }
                projection = new MessageType(schema.getName(), keep);
            }
            reader.setRequestedSchema(projection);
            MessageColumnIO io = new ColumnIOFactory().getColumnIO(projection);
            PageReadStore pages;
            while (rows.size() < limit && (pages = reader.readNextRowGroup()) != null) {
                RecordReader<Group> records = io.getRecordReader(pages, new GroupRecordConverter(projection));
                long n = pages.getRowCount();
                for (long i = 0; i < n && rows.size() < limit; i++) {
                    rows.add(toMap(records.read()));
                }
            }
        }
        return rows;
    }

    /** Top-level column names of a file. */
    public static List<String> columns(Path file) throws IOException {
        try (ParquetFileReader reader = ParquetFileReader.open(ParquetReader.makeInputFile(file.toFile()))) {
            return reader.getFooter().getFileMetaData().getSchema().getFields().stream().map(Type::getName).toList();
        }
    }

    /** Number of rows, from the footer. */
    public static long rowCount(Path file) throws IOException {
        try (ParquetFileReader reader = ParquetFileReader.open(ParquetReader.makeInputFile(file.toFile()))) {
            return reader.getRecordCount();
        }
    }

    private static Map<String, Object> toMap(Group g) {
        Map<String, Object> out = new LinkedHashMap<>();
        GroupType type = g.getType();
        for (int f = 0; f < type.getFieldCount(); f++) {
            out.put(type.getFieldName(f), fieldValue(g, f));
        }
        return out;
    }

    private static Object fieldValue(Group g, int f) {
        Type t = g.getType().getType(f);
        int count = g.getFieldRepetitionCount(f);
        if (t.isRepetition(Type.Repetition.REPEATED)) {
            List<Object> values = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                values.add(value(g, f, i, t));
            }
            return values;
        }
        return count == 0 ? null : value(g, f, 0, t);
    }

    private static Object value(Group g, int f, int i, Type t) {
        if (t.isPrimitive()) {
            PrimitiveType p = t.asPrimitiveType();
            return switch (p.getPrimitiveTypeName()) {
                case BINARY, FIXED_LEN_BYTE_ARRAY -> isString(p) ? g.getString(f, i) : g.getBinary(f, i).getBytes();
                case INT32 -> (long) g.getInteger(f, i);
                case INT64 -> g.getLong(f, i);
                case FLOAT -> (double) g.getFloat(f, i);
                case DOUBLE -> g.getDouble(f, i);
                case BOOLEAN -> g.getBoolean(f, i);
                case INT96 -> g.getInt96(f, i).getBytes();
            };
        }
        Group child = g.getGroup(f, i);
        GroupType gt = t.asGroupType();
        if (gt.getLogicalTypeAnnotation() instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation) {
            return listValue(child);
        }
        return toMap(child);
    }

    /** LIST: {@code <list> { repeated <list|bag> { <element> } }} (three-level) or a repeated element directly. */
    private static List<Object> listValue(Group list) {
        List<Object> out = new ArrayList<>();
        if (list.getType().getFieldCount() == 0) {
            return out;
        }
        Type repeated = list.getType().getType(0);
        int n = list.getFieldRepetitionCount(0);
        for (int i = 0; i < n; i++) {
            if (!repeated.isPrimitive() && repeated.asGroupType().getFieldCount() == 1
                    && repeated.getLogicalTypeAnnotation() == null) {
                Group wrapper = list.getGroup(0, i);
                out.add(wrapper.getFieldRepetitionCount(0) == 0 ? null : value(wrapper, 0, 0, wrapper.getType().getType(0)));
            } else {
                out.add(value(list, 0, i, repeated));
            }
        }
        return out;
    }

    private static boolean isString(PrimitiveType p) {
        LogicalTypeAnnotation a = p.getLogicalTypeAnnotation();
        return a instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation
                || a instanceof LogicalTypeAnnotation.JsonLogicalTypeAnnotation
                || a instanceof LogicalTypeAnnotation.EnumLogicalTypeAnnotation;
    }
}
