# Rill against its baseline per workload, from the TSV bench_e2e --tsv writes
# (id, label, Rill records/s, baseline records/s, Rill RSS growth MB, baseline RSS growth MB).
# gnuplot -e "data='build/bench/e2e.tsv'; out='benchmarks/chart.svg'" benchmarks/chart.gp
# (add broker='simulated cluster' for the --broker sim table)
set terminal svg size 1100,560 dynamic font "sans,11" background rgb "white"
set output out
set datafile separator "\t"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set ylabel "thousand records/s"
set xtics rotate by -35 scale 0 nomirror
set key top right
set yrange [0:*]
set bmargin 9
if (!exists("broker")) broker = "embedded broker"
set title sprintf("Rill vs the hand-written baseline, same %s, same run (W5: exactly-once vs at-least-once)", broker)
plot data using ($3/1000):xtic(2) title "Rill" lc rgb "#2b6cb0", \
     '' using ($4/1000) title "baseline" lc rgb "#a0aec0"
