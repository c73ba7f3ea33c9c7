export export.unsupported/doc.yk
