# nbconvert configuration that writes the student edition of the chapters:
#     jupyter nbconvert --config student_edition.py book/*.ipynb
# Every cell tagged "solution" (solution text, solution code and its output) is
# removed; the notebooks land in student/.
c = get_config()  # noqa: F821  (provided by nbconvert when it reads this file)
c.NbConvertApp.export_format = "notebook"
c.TagRemovePreprocessor.enabled = True
c.TagRemovePreprocessor.remove_cell_tags = {"solution"}
c.FilesWriter.build_directory = "student"
