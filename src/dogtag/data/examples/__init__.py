"""Example files shipped with dogtag (``dogtag examples``); origin and licence in PROVENANCE.md."""

# name (a file, or a folder for a CSV case) -> what it is
EXAMPLES: dict[str, str] = {
    "paternity.fam": "Familias 3 paternity case (AF, MO, CH; 10 STRs): dogtag lr paternity.fam",
    "paternity.kinship.json": "the same case as pedsuite JSON: dogtag lr paternity.kinship.json",
    "threegen.kinship.json": "three generations, 20 STRs, stepwise mutation (synthetic): dogtag lr",
    "planecrash": "CSV case folder, dvir's planecrash (8 victims, 5 families, 15 STRs): dogtag dvi planecrash/",
    "HG00140.fasta": "a whole mtGenome (1000 Genomes, GBR): dogtag mito compare HG00140.fasta ...",
    "evaluation.hsd": "120 mtDNA profiles (HaploGrep evaluation data): dogtag mito freq ... --db evaluation.hsd",
    "osteosort.csv": "OsteoSort 1.4's example inventory, 380 measured elements: dogtag commingle osteosort.csv",
    "k56-boxes": "two boxes (boxes.csv) of 16 commingled humeri and femora (inventory.csv): dogtag import",
    "danes.txt": "185 Danish men, 10 Y-STRs (disclapmix): dogtag ystr freq ... --db danes.txt",
}
